// Package app composes the musicfs daemon from its modules. The order of the
// modules below is the start order (fx runs each module's hooks in the order
// the modules register them) and fx stops them in reverse.
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
	return fx.Options(
		fx.Supply(cfg),
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
		// What asks the index to look again: SIGHUP and the watcher. Before
		// notify: a SIGHUP sent as soon as READY is seen must find its
		// handler, not kill the daemon; and notify's STOPPING=1 comes before
		// everything else stops.
		fx.Module("rescans", fx.Invoke(registerHangup, registerFollow)),
		notify.Module,
		// After notify: the first hooks to run once READY is sent.
		fx.Module("scan-after-ready", fx.Invoke(registerScanAfterReady)),
		fx.Provide(
			func(f *fusefs.FS) notify.Prober { return f },
			func(ix *index.Index) content.OfflineOrigins { return ix },
			func(s *cas.Store) cache.Store { return s },
			func(f *content.Fetcher) prefetch.Fetcher { return f },
			newStatus,
		),
	)
}
