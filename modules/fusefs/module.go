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
	fx.Provide(New),
	fx.Invoke(func(lc fx.Lifecycle, f *FS) { lc.Append(fx.StartStopHook(f.Start, f.Stop)) }),
)

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
