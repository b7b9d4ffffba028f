package cas

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides *Store. Its Space, if any, is provided by whoever
// composes the app.
var Module = fx.Module("cas",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("cas") }),
	fx.Provide(provide),
)

// provide builds the store and appends its hooks as it is built, that is
// after its dependencies': it starts after them and stops before them.
func provide(p Params, lc fx.Lifecycle) (*Store, error) {
	s, err := New(p)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartStopHook(s.Start, s.Stop))
	return s, nil
}
