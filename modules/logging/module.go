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
// output for the lifetime of the app. List it first, so that its OnStop
// (which flushes the logger) runs last.
var Module = fx.Module("logging",
	fx.Provide(New, NewHooks),
	fx.Invoke(register),
)

// FxLogger routes fx's own events through the logger, at debug level so
// they do not crowd info logs (fx errors stay at error level), and through
// Hooks.
var FxLogger = fx.WithLogger(func(l *zap.Logger, h *Hooks) fxevent.Logger {
	zl := &fxevent.ZapLogger{Logger: l.Named("fx")}
	zl.UseLogLevel(zapcore.DebugLevel)
	return hookLogger{Logger: zl, hooks: h}
})

func register(lc fx.Lifecycle, cfg Config, l *zap.Logger) {
	c := NewCrashOutput(cfg, l.Named("logging"))
	lc.Append(fx.StartStopHook(c.Start, func(ctx context.Context) error {
		err := c.Stop(ctx)
		if serr := flush(l); serr != nil && err == nil {
			err = fmt.Errorf("sync log: %w", serr)
		}
		return err
	}))
}
