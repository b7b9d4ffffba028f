package cache

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides *Cache. New installs it as the store's Space and registers
// its Start/Stop hooks; the Invoke makes sure it exists (and pins are
// fetched) even if nothing else asks for it.
var Module = fx.Module("cache",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("cache") }),
	fx.Provide(New),
	fx.Invoke(func(*Cache) {}),
)
