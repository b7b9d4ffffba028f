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
	fx.Provide(fx.Annotate(New, fx.As(new(Set)))),
	fx.Provide(NewWatcher),
	// Constructed here, not when a consumer first asks, so the watcher
	// starts with the origins and stops after everything that reads it.
	fx.Invoke(func(*Watcher) {}),
)
