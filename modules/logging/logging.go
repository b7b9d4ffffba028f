// Package logging builds the daemon's zap logger, routes fx's own events
// through it, and keeps a trace of fatal crashes (runtime/debug
// SetCrashOutput) in state_dir to report at the next start.
package logging

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sys/unix"
)

// New returns a logger writing to stderr, where systemd's journal picks it
// up: console lines (readable in journalctl) or JSON, at cfg.Level.
func New(cfg Config) (*zap.Logger, error) {
	return newLogger(cfg, zapcore.Lock(os.Stderr), isTerminal(os.Stderr))
}

func newLogger(cfg Config, out zapcore.WriteSyncer, tty bool) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(cfg.Level)
	if err != nil {
		return nil, fmt.Errorf("log.level: %w", err)
	}
	ec := zap.NewProductionEncoderConfig()
	ec.EncodeTime = zapcore.ISO8601TimeEncoder
	var enc zapcore.Encoder
	switch cfg.Format {
	case "json":
		enc = zapcore.NewJSONEncoder(ec)
	case "console", "":
		ec.EncodeLevel = zapcore.CapitalLevelEncoder
		if tty {
			ec.EncodeLevel = zapcore.CapitalColorLevelEncoder
		}
		enc = zapcore.NewConsoleEncoder(ec)
	default:
		return nil, fmt.Errorf("log.format: %q must be console or json", cfg.Format)
	}
	// As zap's production config: sample repeated messages so a storm of
	// identical errors cannot flood the journal. Stack traces only from
	// DPanic up: errors that need one (a recovered panic) attach it.
	core := zapcore.NewSamplerWithOptions(zapcore.NewCore(enc, out, level), time.Second, 100, 100)
	return zap.New(core, zap.AddCaller(), zap.AddStacktrace(zapcore.DPanicLevel), zap.ErrorOutput(out)), nil
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// flush syncs the logger; stderr as a pipe or a tty refuses fsync with
// EINVAL or ENOTTY, which is no loss.
func flush(l *zap.Logger) error {
	err := l.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTTY) {
		return nil
	}
	return err
}
