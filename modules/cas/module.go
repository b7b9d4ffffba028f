package cas

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides *Store. New appends its own Start/Stop hook.
var Module = fx.Module("cas",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("cas") }),
	fx.Provide(New),
)
