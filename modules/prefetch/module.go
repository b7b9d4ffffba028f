package prefetch

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides *Prefetcher; New registers its Start/Stop hooks. The
// Fetcher (the cache) is provided by whoever composes the app.
var Module = fx.Module("prefetch",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("prefetch") }),
	fx.Provide(New),
)
