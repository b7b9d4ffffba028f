// Package content is the one way to a track's bytes. Contents.Open hides
// whether they come from the cache or straight from the origin (an origin
// with `cache: false`), and the prefetch session that keeps a played
// track's next bytes warm; Fetcher.Fetch brings bytes into the cache for
// prefetch. Both open origin files with origins.OpenIn, as pinning does.
package content

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/prefetch"
)

// OfflineOrigins reports the origins held offline; the index implements it.
type OfflineOrigins interface {
	Offline() []string
}

// Fetcher fetches tracks' bytes into the cache.
type Fetcher struct {
	store   *cas.Store // nil: no cache
	origins origins.Set
	offline OfflineOrigins // nil: only the origins' own health counts
}

var (
	_ prefetch.Fetcher = (*Fetcher)(nil)
)

// Fetch makes [off, off+n) of k present in the cache (see cas.Store.Fetch),
// opening the origin file only if a block must come from it.
func (f *Fetcher) Fetch(ctx context.Context, k cas.Key, off, n int64) error {
	if f.store == nil {
		return errors.New("fetch: no cache")
	}
	return f.store.Fetch(ctx, k, f.opener(k.Origin, k.RelPath), off, n)
}

// opener opens relpath of origin when the cache asks for it.
func (f *Fetcher) opener(origin, relpath string) cas.Opener {
	return func(ctx context.Context) (origins.File, error) {
		file, err := origins.OpenIn(ctx, f.origins, origin, relpath)
		if err != nil {
			return nil, f.originErr(origin, err)
		}
		return file, nil
	}
}

// originErr is the error of opening a file of origin. While the index
// holds the origin offline, whatever the origin says (typically that the
// file is missing, from a share unmounted under its directory) is an
// ErrOffline: the tracks are listed because the index keeps them, and a
// reader must get EIO, not ENOENT. The cause is kept as text only, so that
// it does not map to its own errno.
func (f *Fetcher) originErr(origin string, err error) error {
	if f.offline == nil || errors.Is(err, origins.ErrOffline) || !slices.Contains(f.offline.Offline(), origin) {
		return err
	}
	return fmt.Errorf("origin %s is offline: %v: %w", origin, err, origins.ErrOffline)
}

// Contents opens tracks for reading.
type Contents struct {
	fetch    *Fetcher
	prefetch *prefetch.Prefetcher // nil: no prefetching
	uncached map[string]bool      // origins that bypass the cache
}

// Open opens t's bytes. Through the cache, the origin is opened only when
// a block must come from it, so cached music plays while the origin is
// offline; an origin that bypasses the cache is opened here and now.
func (c *Contents) Open(ctx context.Context, t *index.Track) (*Handle, error) {
	if _, ok := c.fetch.origins.Get(t.Origin); !ok { // a stale record
		return nil, fmt.Errorf("open %s: origin %q: %w", t.RelPath, t.Origin, origins.ErrUnknownOrigin)
	}
	open := c.fetch.opener(t.Origin, t.RelPath)
	if c.fetch.store == nil || c.uncached[t.Origin] {
		file, err := open(ctx)
		if err != nil {
			return nil, err
		}
		return &Handle{file: file}, nil
	}
	r, err := c.fetch.store.Open(cas.Key{Origin: t.Origin, RelPath: t.RelPath, Size: t.Size, ModTime: t.ModTime}, open)
	if err != nil {
		return nil, err
	}
	h := &Handle{file: r, cached: r}
	if c.prefetch != nil && t.Audio {
		h.session = c.prefetch.Opened(t)
	}
	return h, nil
}

// Handle is an open track. Its methods are safe for concurrent use.
type Handle struct {
	file interface {
		ReadAt(ctx context.Context, p []byte, off int64) (int, error)
		Close() error
	}
	cached  *cas.Reader       // nil when the origin bypasses the cache
	session *prefetch.Session // nil without prefetching
}

// ReadAt reads like io.ReaderAt, until ctx ends if it must wait for the
// origin, and tells prefetch what was read.
func (h *Handle) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	n, err := h.file.ReadAt(ctx, p, off)
	h.session.Read(off, int64(n))
	return n, err
}

// Cached reports whether the bytes come through the cache.
func (h *Handle) Cached() bool { return h.cached != nil }

// Blob returns the complete, verified cached file, for the kernel to read
// it directly (FUSE passthrough); false while the track is partial or
// uncached. The Handle owns the file.
func (h *Handle) Blob() (*os.File, bool) {
	if h.cached == nil {
		return nil, false
	}
	return h.cached.Blob()
}

// PassedThrough tells the Handle that the kernel serves its reads: no reads
// will tell prefetch that the track is played, an open kept open does.
func (h *Handle) PassedThrough() {
	if h.cached != nil {
		h.cached.PassedThrough()
	}
	h.session.PassedThrough()
}

// Close ends prefetching for the track and closes it.
func (h *Handle) Close() error {
	h.session.Close()
	return h.file.Close()
}
