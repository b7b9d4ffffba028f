package logging

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"

	"go.uber.org/zap"
)

const (
	// CrashLog is the file in the state directory that receives the
	// runtime's output when the process dies of a fatal error.
	CrashLog = "crash.log"
	// crashKeep is how many earlier crash logs are kept (crash.log.1..3).
	crashKeep = 3
	// crashReportMax is how much of a crash log goes into the log entry.
	crashReportMax = 64 << 10
)

// CrashOutput sends fatal crash output (unrecovered panics, runtime
// throws) to StateDir/crash.log and, at the next start, reports a
// non-empty crash.log and rotates it.
type CrashOutput struct {
	dir string
	log *zap.Logger
}

// NewCrashOutput does no I/O; Start does.
func NewCrashOutput(cfg Config, log *zap.Logger) *CrashOutput {
	return &CrashOutput{dir: cfg.StateDir, log: log}
}

// Start creates the state directory (0700), reports and rotates the crash
// log of a previous run, and installs a fresh one as the crash output.
func (c *CrashOutput) Start(context.Context) error {
	if c.dir == "" {
		c.log.Warn("no state directory: fatal crashes will only reach stderr")
		return nil
	}
	if err := ensurePrivateDir(c.dir); err != nil {
		return fmt.Errorf("state_dir %s: %w", c.dir, err)
	}
	path := filepath.Join(c.dir, CrashLog)
	if err := c.reportPrevious(path); err != nil {
		// Losing the old report must not stop the daemon from starting.
		c.log.Warn("previous crash log not rotated", zap.String("path", path), zap.Error(err))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("open crash log: %w", err)
	}
	defer f.Close() // SetCrashOutput keeps its own duplicate of the descriptor
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("chmod crash log: %w", err)
	}
	if err := debug.SetCrashOutput(f, debug.CrashOptions{}); err != nil {
		return fmt.Errorf("set crash output: %w", err)
	}
	return nil
}

// Stop uninstalls the crash output; an empty crash.log is left, meaning
// "this run did not crash".
func (c *CrashOutput) Stop(context.Context) error {
	if c.dir == "" {
		return nil
	}
	if err := debug.SetCrashOutput(nil, debug.CrashOptions{}); err != nil {
		return fmt.Errorf("unset crash output: %w", err)
	}
	return nil
}

// reportPrevious logs a non-empty crash log at error level, moved to
// crash.log.1 with older ones shifted up.
func (c *CrashOutput) reportPrevious(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	head, err := io.ReadAll(io.LimitReader(f, crashReportMax))
	fi, statErr := f.Stat()
	f.Close()
	if err != nil {
		return err
	}
	if statErr != nil {
		return statErr
	}
	if fi.Size() == 0 {
		return nil
	}
	rotated, rotErr := rotate(path)
	if rotErr != nil {
		rotated = path
	}
	c.log.Error("previous run crashed",
		zap.String("path", rotated),
		zap.Int64("size", fi.Size()),
		zap.Bool("truncated", fi.Size() > crashReportMax),
		zap.String("output", string(head)))
	return rotErr
}

// rotate shifts crash.log.N to N+1 (dropping the oldest) and crash.log to
// crash.log.1, which it returns.
func rotate(path string) (string, error) {
	name := func(i int) string { return path + "." + strconv.Itoa(i) }
	if err := os.Remove(name(crashKeep)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	for i := crashKeep - 1; i >= 1; i-- {
		if err := os.Rename(name(i), name(i+1)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	if err := os.Rename(path, name(1)); err != nil {
		return "", err
	}
	return name(1), nil
}

// ensurePrivateDir creates dir with mode 0700, and takes group and other
// permissions off an existing one: crash output and the index hold paths
// and tags the owner may want private.
func ensurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("not a directory")
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, fi.Mode().Perm()&0o700)
	}
	return nil
}
