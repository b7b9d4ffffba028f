// Package janitor prepares the mountpoint before the filesystem is mounted:
// a dead FUSE mount left by a crashed run is lazily unmounted, a live one is
// refused, and the directory is created or checked to be empty.
package janitor

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides the *Janitor and makes sure it runs at start.
var Module = fx.Module("janitor",
	fx.Provide(New),
	fx.Invoke(func(*Janitor) {}),
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("janitor") }),
)
