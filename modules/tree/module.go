package tree

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides *Tree; the Invoke makes sure the tree is built even if
// nothing else asks for it.
var Module = fx.Module("tree",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("tree") }),
	fx.Provide(provide),
	fx.Invoke(func(*Tree) {}),
)

// provide builds the Tree and appends its hooks as it is built, after its
// dependencies' (the index): it starts after them and stops before them.
func provide(p Params, lc fx.Lifecycle) (*Tree, error) {
	t, err := New(p)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartStopHook(t.Start, t.Stop))
	return t, nil
}
