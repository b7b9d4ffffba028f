// Package janitor prepares the mountpoint before the filesystem is mounted:
// a dead FUSE mount left by a crashed run is lazily unmounted, a live one is
// refused, and the directory is created or checked to be empty.
package janitor

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides the *Janitor and makes sure it runs at start; fusefs
// takes it as a dependency, so it runs before the mount.
var Module = fx.Module("janitor",
	fx.Provide(provide),
	fx.Invoke(func(*Janitor) {}),
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("janitor") }),
)

// provide builds the Janitor and appends its hook as it is built, after its
// dependencies'. It has nothing to stop.
func provide(p Params, lc fx.Lifecycle) (*Janitor, error) {
	j, err := New(p)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartHook(j.Prepare))
	return j, nil
}
