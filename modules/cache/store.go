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
	// Inventory is what the store shows of itself: its entries, their
	// usage (Entries' Bytes summed without a listing; MakeRoom's fast
	// check, while its decisions to evict sum a listing) and removal, which
	// returns the allocated bytes freed or an error wrapping ErrInUse if a
	// reader opened the entry meanwhile.
	Inventory = cas.Inventory
)

// Store is the part of the content-addressed store the Worker drives.
type Store interface {
	Inventory
	// Fetch makes bytes [off, off+n) of the track present.
	Fetch(ctx context.Context, k Key, open cas.Opener, off, n int64) error
	// Cached reports how many bytes of the track are present and whether
	// it is complete.
	Cached(k Key) (present int64, complete bool)
}

var (
	// ErrInUse is what Store.Remove wraps for an entry a reader holds.
	ErrInUse = cas.ErrInUse
	// ErrNoSpace means room could not be made without evicting pinned or
	// in-use data: the caller serves from the origin uncached.
	ErrNoSpace = cas.ErrNoSpace
)

var (
	_ Store     = (*cas.Store)(nil)
	_ cas.Space = (*Cache)(nil)
)

// keyID is Key made comparable: time.Time's == also compares the location
// and the monotonic reading.
type keyID struct {
	origin, relPath string
	size, mtime     int64
}

func idOf(k Key) keyID {
	return keyID{k.Origin, k.RelPath, k.Size, k.ModTime.UnixNano()}
}
