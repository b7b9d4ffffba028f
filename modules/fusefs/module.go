// Package fusefs serves the current tree snapshot as a read-only FUSE
// filesystem. Nodes hold only an inode number and resolve it against the
// snapshot on every operation, so a snapshot swap needs no locking here.
package fusefs

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/janitor"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/prefetch"
	"github.com/musicfs/musicfs/modules/tree"
)

// Module mounts the filesystem on start and unmounts it on stop.
var Module = fx.Module("fusefs",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("fusefs") }),
	fx.Provide(provide),
	fx.Invoke(func(*FS) {}),
)

// provide builds the FS and appends its hooks as it is built, after its
// dependencies' (the janitor, the tree, the store): it mounts after they
// started and unmounts before they stop.
func provide(p Params, lc fx.Lifecycle) (*FS, error) {
	f, err := New(p)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartStopHook(f.Start, f.Stop))
	return f, nil
}

// Params are the dependencies of New.
type Params struct {
	fx.In

	Config     Config
	Tree       *tree.Tree
	Origins    origins.Set
	Logger     *zap.Logger
	Registerer prometheus.Registerer
	Shutdowner fx.Shutdowner
	// Janitor is only a dependency for ordering: it must have cleared the
	// mountpoint before we mount.
	Janitor *janitor.Janitor
	// Store serves file contents through the local cache; without it every
	// read goes to the origin.
	Store *cas.Store `optional:"true"`
	// Prefetch keeps what a player reads next warm in the cache.
	Prefetch *prefetch.Prefetcher `optional:"true"`
	// Offline names the origins the index treats as offline although their
	// root answers (it looks empty, or is no longer the mount point it
	// was): a file missing there is an I/O error, not a deleted file.
	Offline OfflineOrigins `optional:"true"`
}

// OfflineOrigins reports the origins held offline; the index implements it.
type OfflineOrigins interface {
	Offline() []string
}
