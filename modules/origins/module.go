package origins

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides the origins.Set and the *Watcher. Only the Set interface
// is provided, so that tests and later features can wrap it with
// fx.Decorate(func(s origins.Set) origins.Set { ... }). The watcher uses a
// Backend from the graph if there is one (tests supply fakes), else inotify.
var Module = fx.Module("origins",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("origins") }),
	fx.Provide(fx.Annotate(provideRegistry, fx.As(new(Set)))),
	fx.Provide(provideWatcher),
	// Constructed here, not when a consumer first asks, so the watcher
	// starts with the origins and stops after everything that reads it.
	fx.Invoke(func(*Watcher) {}),
)

// provideRegistry and provideWatcher build their value and append its hooks
// as it is built, after its dependencies': it starts after them and stops
// before them.
func provideRegistry(p Params, lc fx.Lifecycle) (*Registry, error) {
	r, err := New(p)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartStopHook(r.Start, r.Stop))
	return r, nil
}

func provideWatcher(p WatcherParams, lc fx.Lifecycle) (*Watcher, error) {
	w, err := NewWatcher(p)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartStopHook(w.Start, w.Stop))
	return w, nil
}
