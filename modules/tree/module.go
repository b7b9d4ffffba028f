package tree

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides *Tree. New registers its Start/Stop hooks; the Invoke
// makes sure the tree is built even if nothing else asks for it.
var Module = fx.Module("tree",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("tree") }),
	fx.Provide(New),
	fx.Invoke(func(*Tree) {}),
)
