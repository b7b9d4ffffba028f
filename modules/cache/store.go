package cache

import (
	"context"

	"github.com/musicfs/musicfs/modules/cas"
)

// The cache works on the store's own types.
type (
	// Key is a track's identity in the store.
	Key = cas.Key
	// Entry is one unit the store can remove: a blob or a partial fill.
	Entry = cas.Entry
	// Space is consulted by the store before every block write.
	Space = cas.Space
)

// Store is the part of the content-addressed store the cache drives.
type Store interface {
	Entries() []Entry
	// Remove drops an entry and returns the allocated bytes it freed, or an
	// error wrapping ErrInUse if a reader opened it meanwhile.
	Remove(id string) (freed int64, err error)
	// Usage is the allocated size of the entries, the sum of Entries'
	// Bytes kept without listing them. MakeRoom uses it as a fast check;
	// its decisions to evict sum a listing instead.
	Usage() int64
	// Fetch makes bytes [off, off+n) of the track present.
	Fetch(ctx context.Context, k Key, open cas.Opener, off, n int64) error
	// Cached reports how many bytes of the track are present and whether
	// it is complete.
	Cached(k Key) (present int64, complete bool)
	// SetSpace installs the guard consulted before every block write.
	SetSpace(sp Space)
}

var (
	// ErrInUse is what Store.Remove wraps for an entry a reader holds.
	ErrInUse = cas.ErrInUse
	// ErrNoSpace means room could not be made without evicting pinned or
	// in-use data: the caller serves from the origin uncached.
	ErrNoSpace = cas.ErrNoSpace
)

var _ Store = (*cas.Store)(nil)

// keyID is Key made comparable: time.Time's == also compares the location
// and the monotonic reading.
type keyID struct {
	origin, relPath string
	size, mtime     int64
}

func idOf(k Key) keyID {
	return keyID{k.Origin, k.RelPath, k.Size, k.ModTime.UnixNano()}
}
