// Package fusefs serves the current tree snapshot as a read-only FUSE
// filesystem. Nodes hold only an inode number and resolve it against the
// snapshot on every operation, so a snapshot swap needs no locking here.
package fusefs

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/content"
	"github.com/musicfs/musicfs/modules/janitor"
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
	Contents   *content.Contents
	Logger     *zap.Logger
	Registerer prometheus.Registerer
	Shutdowner fx.Shutdowner
	// Janitor is only a dependency for ordering: it must have cleared the
	// mountpoint before we mount.
	Janitor *janitor.Janitor
}
