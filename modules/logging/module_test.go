package logging

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestModule(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	var l *zap.Logger
	app := fxtest.New(t, Module, FxLogger,
		fx.Supply(Config{Level: "debug", Format: "json", StateDir: dir}),
		fx.Populate(&l))
	app.RequireStart()
	if !l.Core().Enabled(zapcore.DebugLevel) {
		t.Error("logger not at the configured level")
	}
	if _, err := os.Stat(filepath.Join(dir, CrashLog)); err != nil {
		t.Errorf("crash output not installed: %v", err)
	}
	app.RequireStop()
}

// TestFxLoggerLevels: fx's routine events go at debug, its errors at error.
func TestFxLoggerLevels(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	app := fx.New(FxLogger,
		fx.Provide(func() *zap.Logger { return zap.New(core) }, NewHooks),
		fx.Invoke(func() error { return os.ErrPermission }))
	if app.Err() == nil {
		t.Fatal("want the invoke error")
	}
	var debug, errs int
	for _, e := range logs.All() {
		if e.LoggerName != "fx" {
			t.Errorf("fx event from logger %q", e.LoggerName)
		}
		switch e.Level {
		case zapcore.DebugLevel:
			debug++
		case zapcore.ErrorLevel:
			errs++
		default:
			t.Errorf("fx event %q at %v", e.Message, e.Level)
		}
	}
	if debug == 0 || errs == 0 {
		t.Fatalf("debug %d, error %d events; want both", debug, errs)
	}
}
