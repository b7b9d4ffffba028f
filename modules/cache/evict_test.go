package cache_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/indextest"
	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/config"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
)

func TestMakeRoomEvictsLeastRecentlyUsedFirst(t *testing.T) {
	tests := []struct {
		need    int64
		removed []string
		noSpace bool
	}{
		{need: 10},
		{need: 20, removed: []string{"c"}},
		{need: 41, removed: []string{"c", "a"}},
		{need: 100, removed: []string{"c", "a", "b"}},
		{need: 101, noSpace: true}, // more than max_size: nothing evicted in vain
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.need), func(t *testing.T) {
			st := newFakeStore(1)
			// Access order c, a, b: not the order of the IDs.
			st.add("c", 30)
			st.add("a", 30)
			st.add("b", 30)
			c, _ := newCache(t, cache.Config{MaxSize: 100}, st, nil, nil, cache.Options{})
			err := c.MakeRoom(tt.need)
			if tt.noSpace != errors.Is(err, cache.ErrNoSpace) {
				t.Fatalf("MakeRoom(%d) = %v", tt.need, err)
			}
			if got := st.removedIDs(); !slices.Equal(got, tt.removed) {
				t.Fatalf("removed %v, want %v", got, tt.removed)
			}
		})
	}
}

// pinnedLibrary is a tree with one pinned album (two tracks) and others.
func pinnedLibrary(t *testing.T, size int64) (pinned, other []*index.Track, src *indextest.Source) {
	pinned = []*index.Track{
		song("nina/1.flac", "Nina Simone", "Pastel Blues", 1, "Be My Husband", size),
		song("nina/2.flac", "Nina Simone", "Pastel Blues", 2, "Nobody", size),
	}
	for i := range 4 {
		other = append(other, song(fmt.Sprintf("other/%d.flac", i), "Other", "Album", i+1, fmt.Sprint("T", i), size))
	}
	return pinned, other, indextest.NewSource(append(slices.Clone(pinned), other...)...)
}

func TestMakeRoomKeepsPinnedAndInUse(t *testing.T) {
	pinned, other, src := pinnedLibrary(t, 20)
	st := newFakeStore(1)
	st.add("pinned", 20, keyOf(pinned[0]))
	st.add("held", 20, keyOf(other[0]))
	st.add("shared", 20, keyOf(other[1]), keyOf(pinned[1])) // one blob, two identities, one pinned
	st.add("free1", 20, keyOf(other[2]))
	st.add("free2", 20, keyOf(other[3]))
	st.hold("held", true)
	// The cache does not see a reader close: after ErrNoSpace it answers
	// the same again for NoSpaceRetry without looking (see
	// TestNoSpaceVerdictIsRemembered). Here it looks every time.
	c, _ := newCache(t, cache.Config{MaxSize: 100, Pin: []string{"Artists/Nina Simone/**"}}, st, startTree(t, src), nil,
		cache.Options{NoSpaceRetry: time.Nanosecond})
	startCache(t, c)

	if err := c.MakeRoom(30); err != nil {
		t.Fatal(err)
	}
	if got, want := st.removedIDs(), []string{"free1", "free2"}; !slices.Equal(got, want) {
		t.Fatalf("removed %v, want %v", got, want)
	}
	// Now only pinned and in-use data is left, and the cache is full.
	if err := c.MakeRoom(41); !errors.Is(err, cache.ErrNoSpace) {
		t.Fatalf("MakeRoom with everything pinned or in use = %v, want ErrNoSpace", err)
	}
	if got := len(st.removedIDs()); got != 2 {
		t.Fatalf("%d entries removed after ErrNoSpace, want still 2", got)
	}
	st.hold("held", false) // the reader closed it
	if err := c.MakeRoom(41); err != nil {
		t.Fatal(err)
	}
	if got, want := st.removedIDs(), []string{"free1", "free2", "held"}; !slices.Equal(got, want) {
		t.Fatalf("removed %v, want %v", got, want)
	}
}

// fetchAll reads whole tracks of zeros through the store.
func fetchAll(st *fakeStore, names []string, size int64) error {
	open := func(context.Context) (origins.File, error) { return fakeFile{b: make([]byte, size)}, nil }
	for _, n := range names {
		k := cache.Key{Origin: "o", RelPath: n, Size: size, ModTime: modTime}
		if err := st.Fetch(context.Background(), k, open, 0, size); err != nil {
			return err
		}
	}
	return nil
}

func TestMaxSizeHoldsUnderSequentialPlayback(t *testing.T) {
	const block, track, maxSize = 1 * MiB, 10 * MiB, 50 * MiB
	st := newFakeStore(block)
	c, reg := newCache(t, cache.Config{MaxSize: maxSize}, st, nil, nil, cache.Options{})
	var names []string
	for i := range 20 { // 200 MiB
		names = append(names, fmt.Sprintf("t%02d", i))
	}
	if err := fetchAll(st, names, track); err != nil {
		t.Fatal(err)
	}
	if high, _ := st.marks(); high > maxSize+block {
		t.Fatalf("usage reached %d MiB, want <= %d MiB + one block", high/MiB, maxSize/MiB)
	}
	// Least recently used first: the tracks went in play order, and the
	// last five (50 MiB) fit.
	if got, want := st.removedIDs(), names[:15]; !slices.Equal(got, want) {
		t.Fatalf("evicted %v, want %v", got, want)
	}
	_ = c
	if got := value(t, reg, "musicfs_cache_evictions_total"); got != 15 {
		t.Fatalf("musicfs_cache_evictions_total = %v, want 15", got)
	}
	if got := value(t, reg, "musicfs_cache_evicted_bytes_total"); got != 15*track {
		t.Fatalf("musicfs_cache_evicted_bytes_total = %v, want %v", got, 15*track)
	}
	if got := value(t, reg, "musicfs_cache_max_bytes"); got != maxSize {
		t.Fatalf("musicfs_cache_max_bytes = %v", got)
	}
}

func TestMaxSizeHoldsUnderConcurrentReaders(t *testing.T) {
	const block, track, maxSize, readers = 256 << 10, 2 * MiB, 50 * MiB, 16
	st := newFakeStore(block)
	st.full = maxSize
	c, _ := newCache(t, cache.Config{MaxSize: maxSize}, st, nil, nil, cache.Options{})
	startCache(t, c)

	var wg sync.WaitGroup
	var failed atomic.Int32
	for r := range readers {
		wg.Go(func() {
			var names []string
			for i := range 8 { // 16 readers × 8 tracks × 2 MiB = 256 MiB
				names = append(names, fmt.Sprintf("r%02d-t%d", r, i))
			}
			if err := fetchAll(st, names, track); err != nil {
				t.Error(err)
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		return
	}
	// Each reader may write the block it was granted room for before an
	// eviction that makes the room completes.
	high, low := st.marks()
	t.Logf("high %.2f MiB, low %.2f MiB", float64(high)/MiB, float64(low)/MiB)
	if high > maxSize+readers*block {
		t.Errorf("usage reached %.1f MiB, want <= %d MiB + one block per reader", float64(high)/MiB, maxSize/MiB)
	}
	// 16 readers short of one block each must not each evict a track of
	// their own for it.
	if low < maxSize-2*track {
		t.Errorf("usage fell to %.1f MiB after the cache filled: over-evicted", float64(low)/MiB)
	}
	// After the burst the post-write check trims what the overlap left.
	eventually(t, "usage <= max_size + one block", func() bool { return st.Usage() <= maxSize+block })
}

func TestMinFree(t *testing.T) {
	tests := []struct {
		name            string
		minBytes, other int64
		minPct          float64
		need            int64
		removed         []string
		noSpace         bool
	}{
		{name: "room", minBytes: 20 * MiB, other: 40 * MiB, need: 5 * MiB},
		{name: "bytes", minBytes: 20 * MiB, other: 45 * MiB, need: 10 * MiB, removed: []string{"a"}},
		{name: "percent", minPct: 30, other: 40 * MiB, need: 1, removed: []string{"a"}},
		{name: "two", minBytes: 20 * MiB, other: 65 * MiB, need: 1 * MiB, removed: []string{"a", "b"}},
		{name: "all", minBytes: 20 * MiB, other: 70 * MiB, need: 1 * MiB, removed: []string{"a", "b", "c"}},
		{name: "impossible", minBytes: 40 * MiB, other: 60 * MiB, need: 1, noSpace: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore(MiB)
			for _, id := range []string{"a", "b", "c"} {
				st.add(id, 10*MiB)
			}
			disk := func(string) (cache.Disk, error) {
				return cache.Disk{Total: 100 * MiB, Avail: 100*MiB - tt.other - st.Usage()}, nil
			}
			c, _ := newCache(t, cache.Config{MaxSize: 1 << 40, MinFree: config.MinFree{Bytes: config.Size(tt.minBytes), Percent: tt.minPct}}, st, nil, nil, cache.Options{Statfs: disk})
			err := c.MakeRoom(tt.need)
			if tt.noSpace != errors.Is(err, cache.ErrNoSpace) {
				t.Fatalf("MakeRoom = %v", err)
			}
			if got := st.removedIDs(); !slices.Equal(got, tt.removed) {
				t.Fatalf("removed %v, want %v", got, tt.removed)
			}
		})
	}
}

func TestMinFreeEnforcedWhenOthersFillTheDisk(t *testing.T) {
	st := newFakeStore(MiB)
	for _, id := range []string{"a", "b", "c"} {
		st.add(id, 10*MiB)
	}
	var other atomic.Int64
	other.Store(40 * MiB)
	disk := func(string) (cache.Disk, error) {
		return cache.Disk{Total: 100 * MiB, Avail: 100*MiB - other.Load() - st.Usage()}, nil
	}
	c, _ := newCache(t, cache.Config{MaxSize: 1 << 40, MinFree: config.MinFree{Bytes: 20 * MiB}}, st, nil, nil,
		cache.Options{Statfs: disk, CheckInterval: 10 * time.Millisecond})
	startCache(t, c)

	other.Store(65 * MiB) // another program writes 25 MiB: 5 MiB free
	eventually(t, "min_free restored", func() bool { return st.Usage() <= 15*MiB })
	if got, want := st.removedIDs(), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("removed %v, want %v", got, want)
	}
}

func TestStatfsOfARealDirectory(t *testing.T) {
	st := newFakeStore(MiB)
	st.add("a", 10*MiB)
	// The real statfs: no filesystem here has less than 1 byte free, and
	// none has 100% of itself free as min_free allows.
	c, _ := newCache(t, cache.Config{MaxSize: 1 << 40, MinFree: config.MinFree{Bytes: 1}}, st, nil, nil, cache.Options{Statfs: cache.Statfs})
	if err := c.MakeRoom(1); err != nil {
		t.Fatal(err)
	}
	c, _ = newCache(t, cache.Config{MaxSize: 1 << 40, MinFree: config.MinFree{Bytes: 1 << 62}}, st, nil, nil, cache.Options{Statfs: cache.Statfs})
	if err := c.MakeRoom(1); !errors.Is(err, cache.ErrNoSpace) {
		t.Fatalf("MakeRoom with min_free larger than the disk = %v", err)
	}
}

func TestTrimAfterConcurrentGrants(t *testing.T) {
	st := newFakeStore(1)
	st.add("a", 40)
	st.add("b", 40)
	c, _ := newCache(t, cache.Config{MaxSize: 100}, st, nil, nil, cache.Options{TrimDelay: 200 * time.Millisecond}) // the writes land well within it
	startCache(t, c)
	// Two readers are granted 20 bytes each at once: both fit the usage
	// they saw, and both write.
	for range 2 {
		if err := c.MakeRoom(20); err != nil {
			t.Fatal(err)
		}
	}
	st.add("c", 20)
	st.add("d", 20)
	eventually(t, "the overshoot trimmed", func() bool { return st.Usage() <= 100 })
	if got, want := st.removedIDs(), []string{"a"}; !slices.Equal(got, want) {
		t.Fatalf("removed %v, want %v", got, want)
	}
	// Again, long after the check at start: only the grants can have
	// triggered this one (the periodic check is 30 s away).
	for range 2 {
		if err := c.MakeRoom(20); err != nil {
			t.Fatal(err)
		}
	}
	st.add("e", 20)
	st.add("f", 20)
	eventually(t, "the second overshoot trimmed", func() bool { return st.Usage() <= 100 })
	if got, want := st.removedIDs(), []string{"a", "b"}; !slices.Equal(got, want) {
		t.Fatalf("removed %v, want %v", got, want)
	}
}

// panickyStore panics in the first Remove.
type panickyStore struct {
	*fakeStore
	panicked atomic.Bool
}

func (p *panickyStore) Remove(id string) (int64, error) {
	if !p.panicked.Swap(true) {
		panic("store exploded")
	}
	return p.fakeStore.Remove(id)
}

func TestBackgroundCheckSurvivesAPanic(t *testing.T) {
	st := &panickyStore{fakeStore: newFakeStore(1)}
	st.add("a", 60)
	st.add("b", 60) // over max_size from the start (max_size was lowered)
	c, _ := newCache(t, cache.Config{MaxSize: 100}, st, nil, nil, cache.Options{CheckInterval: 10 * time.Millisecond})
	startCache(t, c)
	eventually(t, "the cache trimmed after the panic", func() bool { return st.Usage() <= 100 })
	if !st.panicked.Load() {
		t.Fatal("Remove never panicked")
	}
	// The panicking removal released its bookkeeping: "a" was evicted.
	if got, want := st.removedIDs(), []string{"a"}; !slices.Equal(got, want) {
		t.Fatalf("removed %v, want %v", got, want)
	}
}
