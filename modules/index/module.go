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
		New,
		func(ix *Index) Source { return ix },
	),
)
