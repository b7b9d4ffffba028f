package index

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides *Index and, for the tree, index.Source, which tests can
// wrap with fx.Decorate.
var Module = fx.Module("index",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("index") }),
	fx.Provide(
		provide,
		func(ix *Index) Source { return ix },
	),
)

// provide builds the Index and appends its hooks as it is built, after its
// dependencies' (the origins): it starts after them and stops before them.
func provide(p Params, lc fx.Lifecycle) (*Index, error) {
	ix, err := New(p)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartStopHook(ix.Start, ix.Stop))
	return ix, nil
}
