package prefetch

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides *Prefetcher. The Fetcher (the cache) is provided by
// whoever composes the app.
var Module = fx.Module("prefetch",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("prefetch") }),
	fx.Provide(provide),
)

// provide builds the Prefetcher and appends its hooks as it is built, after
// its dependencies': it starts after them and stops before them.
func provide(p Params, lc fx.Lifecycle) (*Prefetcher, error) {
	pf, err := New(p)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartStopHook(pf.Start, pf.Stop))
	return pf, nil
}
