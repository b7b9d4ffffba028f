package cache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/origins"
)

// fakeStore keeps entries in memory, one per track (ID = relpath), made of
// fixed-size blocks. Fetch asks the Space for room before every block, as
// the real store does, and reads the block through the opener.
type fakeStore struct {
	block int64

	mu      sync.Mutex
	entries map[string]*fakeEntry
	tick    int64 // logical clock for LastAccess
	space   cas.Space
	removed []string // in order
	usage   int64
	high    int64 // highest usage seen after a write
	// low is the lowest usage seen after a removal once usage first
	// reached full; -1 until then.
	low, full int64
	opens     map[string]int // Fetch calls that opened the origin, by relpath

	// capacity, if set, is the size of the filesystem: a block write that
	// would exceed it fails with ENOSPC, as a full disk does.
	capacity int64
	uncached int // blocks not stored after the retry (served uncached)
	listings int // Entries calls
	// onRemove, if set, runs at the start of Remove, without f.mu: it may
	// block, or return an error Remove then returns.
	onRemove func(id string) error
}

type fakeEntry struct {
	cache.Entry
	size    int64
	present map[int64]bool // block index → present
	users   int            // Fetch calls in progress
	held    bool           // open by a test "reader"
}

func newFakeStore(block int64) *fakeStore {
	return &fakeStore{block: block, entries: map[string]*fakeEntry{}, low: -1, opens: map[string]int{}}
}

// add seeds a complete entry; a later add has a more recent access.
func (f *fakeStore) add(id string, bytes int64, keys ...cache.Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tick++
	e := &fakeEntry{Entry: cache.Entry{ID: id, Bytes: bytes, LastAccess: time.Unix(f.tick, 0), Keys: keys}, size: bytes, present: map[int64]bool{}}
	for i := int64(0); i*f.block < bytes; i++ {
		e.present[i] = true
	}
	f.entries[id] = e
	f.usage += bytes
}

// hold marks an entry as open by a reader (InUse).
func (f *fakeStore) hold(id string, held bool) {
	f.mu.Lock()
	f.entries[id].held = held
	f.mu.Unlock()
}

func (f *fakeStore) Entries() []cache.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listings++
	out := make([]cache.Entry, 0, len(f.entries))
	for _, e := range f.entries {
		c := e.Entry
		c.Keys = slices.Clone(e.Keys)
		c.InUse = e.users > 0 || e.held
		out = append(out, c)
	}
	return out
}

func (f *fakeStore) Remove(id string) (int64, error) {
	if f.onRemove != nil {
		if err := f.onRemove(id); err != nil {
			return 0, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[id]
	if !ok {
		return 0, fmt.Errorf("remove %s: %w", id, fs.ErrNotExist)
	}
	if e.users > 0 || e.held {
		return 0, fmt.Errorf("remove %s: %w", id, cache.ErrInUse)
	}
	delete(f.entries, id)
	f.usage -= e.Bytes
	f.removed = append(f.removed, id)
	if f.low >= 0 && f.usage < f.low {
		f.low = f.usage
	}
	return e.Bytes, nil
}

func (f *fakeStore) Usage() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.usage
}

func (f *fakeStore) SetSpace(sp cas.Space) {
	f.mu.Lock()
	f.space = sp
	f.mu.Unlock()
}

func (f *fakeStore) Cached(k cache.Key) (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.entries[k.RelPath]
	if !ok {
		return 0, false
	}
	return e.Bytes, e.Bytes == e.size
}

func (f *fakeStore) Fetch(ctx context.Context, k cache.Key, open cas.Opener, off, n int64) error {
	f.mu.Lock()
	e, ok := f.entries[k.RelPath]
	if !ok {
		e = &fakeEntry{Entry: cache.Entry{ID: k.RelPath, Keys: []cache.Key{k}}, size: k.Size, present: map[int64]bool{}}
		f.entries[k.RelPath] = e
	}
	e.users++
	f.tick++
	e.LastAccess = time.Unix(f.tick, 0)
	space := f.space
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		e.users--
		f.mu.Unlock()
	}()

	var file origins.File
	defer func() {
		if file != nil {
			file.Close()
		}
	}()
	end := min(off+n, k.Size)
	for b := off / f.block; b*f.block < end; b++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		f.mu.Lock()
		have := e.present[b]
		f.mu.Unlock()
		if have {
			continue
		}
		if file == nil {
			var err error
			if file, err = open(ctx); err != nil {
				return fmt.Errorf("open %s: %w", k.RelPath, err)
			}
			f.mu.Lock()
			f.opens[k.RelPath]++
			f.mu.Unlock()
		}
		blen := min(f.block, k.Size-b*f.block)
		buf := make([]byte, blen)
		if _, err := file.ReadAt(ctx, buf, b*f.block); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s: %w", k.RelPath, err)
		}
		if f.capacity == 0 {
			if err := space.MakeRoom(f, blen); err != nil {
				return err
			}
			f.write(e, b, blen)
			continue
		}
		// As the real store does: room, write; if either fails, reclaim
		// and retry once; then serve the block uncached.
		err := space.MakeRoom(f, blen)
		if err == nil {
			err = f.write(e, b, blen)
		}
		if err != nil {
			err = space.Reclaim(f, blen)
			if err == nil {
				err = f.write(e, b, blen)
			}
		}
		if err != nil {
			f.mu.Lock()
			f.uncached++
			f.mu.Unlock()
		}
	}
	return nil
}

// write stores block b of e, or fails with ENOSPC if the filesystem is full.
func (f *fakeStore) write(e *fakeEntry, b, blen int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e.present[b] {
		return nil
	}
	if f.capacity > 0 && f.usage+blen > f.capacity {
		return fmt.Errorf("write block %d: %w", b, syscall.ENOSPC)
	}
	e.present[b] = true
	e.Bytes += blen
	f.usage += blen
	f.high = max(f.high, f.usage)
	if f.low < 0 && f.full > 0 && f.usage >= f.full {
		f.low = f.usage
	}
	return nil
}

func (f *fakeStore) counts() (uncached, listings int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.uncached, f.listings
}

// marks returns the highest usage seen and the lowest after the cache
// first filled.
func (f *fakeStore) marks() (high, low int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.high, f.low
}

func (f *fakeStore) removedIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.removed)
}

// fakeOrigin serves files from memory. Its first failOpens opens fail, and
// each ReadAt takes delay.
type fakeOrigin struct {
	name      string
	files     map[string][]byte
	failOpens atomic.Int32
	delay     time.Duration
	opens     atomic.Int32
}

func (o *fakeOrigin) Name() string { return o.name }
func (o *fakeOrigin) Root() string { return "/fake/" + o.name }
func (o *fakeOrigin) Online() bool { return true }
func (o *fakeOrigin) Walk(ctx context.Context, fn func(origins.Entry) error) error {
	for rel, b := range o.files {
		if err := fn(origins.Entry{RelPath: rel, Size: int64(len(b)), ModTime: modTime}); err != nil {
			return err
		}
	}
	return nil
}

func (o *fakeOrigin) Open(_ context.Context, rel string) (origins.File, error) {
	o.opens.Add(1)
	if o.failOpens.Add(-1) >= 0 {
		return nil, fmt.Errorf("open %s: %w", rel, errOffline)
	}
	b, ok := o.files[rel]
	if !ok {
		return nil, fs.ErrNotExist
	}
	return fakeFile{b: b, delay: o.delay}, nil
}

func (o *fakeOrigin) Stat(context.Context, string) (fs.FileInfo, error) {
	return nil, errors.ErrUnsupported
}
func (o *fakeOrigin) Check(context.Context) bool { return true }
func (o *fakeOrigin) WalkDir(context.Context, string, func(origins.Entry) error) error {
	return errors.ErrUnsupported
}

var errOffline = errors.New("origin offline")

type fakeFile struct {
	b     []byte
	delay time.Duration
}

func (f fakeFile) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	time.Sleep(f.delay) // a slow origin
	if off >= int64(len(f.b)) {
		return 0, io.EOF
	}
	n := copy(p, f.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (fakeFile) Stat(context.Context) (fs.FileInfo, error) { return nil, errors.ErrUnsupported }
func (fakeFile) Close() error                              { return nil }

type fakeSet []origins.Origin

func (s fakeSet) List() []origins.Origin { return s }
func (s fakeSet) Get(name string) (origins.Origin, bool) {
	for _, o := range s {
		if o.Name() == name {
			return o, true
		}
	}
	return nil, false
}

var modTime = time.Unix(1.7e9, 0)
