// Package app composes the musicfs daemon from its modules and owns the
// root Config. Start order follows from dependencies, not from the order of
// the list below: each module appends its hooks when fx builds it, which is
// after the values it takes, so a module that must start after another
// takes it as a dependency (fusefs takes the janitor; the notifier takes
// the prober, which takes the mount and the SIGHUP handler). fx stops them
// in reverse: STOPPING=1 first, the logger's flush last.
package app

import (
	"go.uber.org/fx"

	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/content"
	"github.com/musicfs/musicfs/modules/fusefs"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/janitor"
	"github.com/musicfs/musicfs/modules/logging"
	"github.com/musicfs/musicfs/modules/metrics"
	"github.com/musicfs/musicfs/modules/notify"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/prefetch"
	"github.com/musicfs/musicfs/modules/tree"
)

// Options is the whole daemon for a loaded configuration.
func Options(cfg *Config) fx.Option {
	return fx.Options(fx.Supply(cfg), fx.Options(modules...))
}

var modules = []fx.Option{
	logging.FxLogger,
	configs,
	logging.Module,
	metrics.Module,
	janitor.Module,
	cas.Module,
	cache.Module,
	prefetch.Module,
	content.Module,
	origins.Module,
	index.Module,
	tree.Module,
	fusefs.Module,
	notify.Module,
	fx.Provide(
		// READY means the mount serves and a SIGHUP asks for a rescan (a
		// service manager may send it as soon as it sees READY) instead of
		// killing the daemon; the watcher's changes reach the index.
		func(f *fusefs.FS, _ *hangup, _ *follow) notify.Prober { return f },
		newHangup,
		newFollow,
		func(ix *index.Index) content.OfflineOrigins { return ix },
		func(c *cache.Cache) cas.Space { return c },
		func(s *cas.Store) cache.Store { return s },
		func(f *content.Fetcher) prefetch.Fetcher { return f },
		newStatus,
	),
	fx.Invoke(scanAfterReady),
}
