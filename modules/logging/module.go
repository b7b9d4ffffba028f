package logging

import (
	"context"
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Module provides the root *zap.Logger (from Config) and installs the crash
// output for the lifetime of the app. Every module takes the logger, so its
// hooks are appended first: the crash output is installed before anything
// else starts, and the logger is flushed after everything stopped.
var Module = fx.Module("logging",
	fx.Provide(provide, NewHooks),
)

// FxLogger routes fx's own events through the logger, at debug level so
// they do not crowd info logs (fx errors stay at error level), and through
// Hooks.
var FxLogger = fx.WithLogger(func(l *zap.Logger, h *Hooks) fxevent.Logger {
	zl := &fxevent.ZapLogger{Logger: l.Named("fx")}
	zl.UseLogLevel(zapcore.DebugLevel)
	return hookLogger{Logger: zl, hooks: h}
})

func provide(cfg Config, lc fx.Lifecycle) (*zap.Logger, error) {
	l, err := New(cfg)
	if err != nil {
		return nil, err
	}
	c := NewCrashOutput(cfg, l.Named("logging"))
	lc.Append(fx.StartStopHook(c.Start, func(ctx context.Context) error {
		err := c.Stop(ctx)
		if serr := flush(l); serr != nil && err == nil {
			err = fmt.Errorf("sync log: %w", serr)
		}
		return err
	}))
	return l, nil
}
