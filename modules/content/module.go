package content

import (
	"go.uber.org/fx"

	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/prefetch"
)

// Module provides *Fetcher and *Contents. Neither has a lifecycle: the
// store, the origins and the prefetcher they use have their own.
var Module = fx.Module("content",
	fx.Provide(NewFetcher, New),
)

// FetcherParams are the dependencies of NewFetcher.
type FetcherParams struct {
	fx.In

	Origins origins.Set
	// Store is the cache; without it every read goes to the origin.
	Store *cas.Store `optional:"true"`
	// Offline names the origins the index treats as offline although their
	// root answers (it looks empty, or is no longer the mount point it
	// was): a file missing there is an I/O error, not a deleted file.
	Offline OfflineOrigins `optional:"true"`
}

// NewFetcher returns the Fetcher of p.Store.
func NewFetcher(p FetcherParams) *Fetcher {
	return &Fetcher{store: p.Store, origins: p.Origins, offline: p.Offline}
}

// Params are the dependencies of New.
type Params struct {
	fx.In

	Fetcher *Fetcher
	// OriginsConfig says which origins bypass the cache (`cache: false`).
	OriginsConfig origins.Config
	// Prefetch keeps what a player reads next warm in the cache.
	Prefetch *prefetch.Prefetcher `optional:"true"`
}

// New returns the Contents that opens tracks through p.Fetcher's cache.
func New(p Params) *Contents {
	uncached := map[string]bool{}
	for _, o := range p.OriginsConfig.Uncached() {
		uncached[o] = true
	}
	return &Contents{fetch: p.Fetcher, prefetch: p.Prefetch, uncached: uncached}
}
