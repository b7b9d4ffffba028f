package cache_test

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/config"
)

// A full filesystem with min_free off: the accounting sees room (max_size
// is far away), the writes fail with ENOSPC, and only Reclaim, which
// trusts the failure over the accounting, frees the room.
func TestENOSPCEvictsWithoutMinFree(t *testing.T) {
	const block, track, disk = MiB, 5 * MiB, 20 * MiB
	st := newFakeStore(block)
	st.capacity = disk
	_, reg := newCache(t, cache.Config{MaxSize: 1 << 30}, st, nil, nil, cache.Options{})
	var names []string
	for i := range 10 { // 50 MiB on a 20 MiB filesystem
		names = append(names, fmt.Sprintf("t%d", i))
	}
	if err := fetchAll(st, names, track); err != nil {
		t.Fatal(err)
	}
	if uncached, _ := st.counts(); uncached != 0 {
		t.Fatalf("%d blocks served uncached with evictable data in the cache", uncached)
	}
	// Each ENOSPC evicted the least recently used track, and only as much
	// as it needed: the last four tracks (20 MiB) are there.
	if got, want := st.removedIDs(), names[:6]; !slices.Equal(got, want) {
		t.Fatalf("evicted %v, want %v", got, want)
	}
	if got := value(t, reg, "musicfs_cache_evictions_total"); got != 6 {
		t.Fatalf("musicfs_cache_evictions_total = %v, want 6", got)
	}
}

func TestReclaim(t *testing.T) {
	tests := []struct {
		name    string
		maxSize int64
		held    []string
		need    int64
		removed []string
		noSpace bool
	}{
		{name: "under max_size, one byte", maxSize: 1000, need: 1, removed: []string{"c"}},
		{name: "more than one entry", maxSize: 1000, need: 31, removed: []string{"c", "a"}},
		{name: "everything", maxSize: 1000, need: 90, removed: []string{"c", "a", "b"}},
		{name: "more than evictable", maxSize: 1000, need: 91, noSpace: true},
		{name: "in use is kept", maxSize: 1000, held: []string{"c"}, need: 1, removed: []string{"a"}},
		{name: "nothing evictable", maxSize: 1000, held: []string{"a", "b", "c"}, need: 1, noSpace: true},
		// max_size, lowered below the usage, asks for more than need.
		{name: "max_size asks for more", maxSize: 50, need: 1, removed: []string{"c", "a"}},
		{name: "max_size impossible", maxSize: 50, held: []string{"a", "b"}, need: 1, noSpace: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newFakeStore(1)
			st.add("c", 30) // access order c, a, b
			st.add("a", 30)
			st.add("b", 30)
			for _, id := range tt.held {
				st.hold(id, true)
			}
			c, _ := newCache(t, cache.Config{MaxSize: config.Size(tt.maxSize)}, st, nil, nil, cache.Options{})
			err := c.Reclaim(tt.need)
			if tt.noSpace != errors.Is(err, cache.ErrNoSpace) {
				t.Fatalf("Reclaim(%d) = %v", tt.need, err)
			}
			if got := st.removedIDs(); !slices.Equal(got, tt.removed) {
				t.Fatalf("removed %v, want %v (nothing in vain)", got, tt.removed)
			}
		})
	}
}

// Readers whose writes all failed at once share one eviction instead of
// each evicting a track.
func TestConcurrentReclaimsShareAnEviction(t *testing.T) {
	st := newFakeStore(MiB)
	for i := range 8 {
		st.add(fmt.Sprint("e", i), 10*MiB)
	}
	entered := make(chan string, 8)
	gate := make(chan struct{})
	st.onRemove = func(id string) error {
		entered <- id
		<-gate
		return nil
	}
	c, _ := newCache(t, cache.Config{MaxSize: 1 << 40}, st, nil, nil, cache.Options{})
	const readers = 4
	errs := make(chan error, readers)
	go func() { errs <- c.Reclaim(MiB) }()
	select {
	case id := <-entered:
		if id != "e0" {
			t.Fatalf("first eviction of %s", id)
		}
	case err := <-errs:
		close(gate)
		t.Fatalf("Reclaim returned %v without evicting", err)
	}
	var wg sync.WaitGroup
	for range readers - 1 {
		wg.Go(func() { errs <- c.Reclaim(MiB) })
	}
	// The others wait for e0's removal, which frees 9 MiB more than the
	// first needs, rather than evict; give them the time to go wrong.
	select {
	case id := <-entered:
		t.Fatalf("a concurrent Reclaim evicted %s too", id)
	case <-time.After(100 * time.Millisecond):
	}
	close(gate)
	wg.Wait()
	for range readers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got, want := st.removedIDs(), []string{"e0"}; !slices.Equal(got, want) {
		t.Fatalf("removed %v, want %v", got, want)
	}
}

// While the cache is full of data it cannot evict, the store asks for room
// for every block, twice: the verdict is remembered instead of listing and
// sorting every entry each time, until something was evicted or the
// verdict is NoSpaceRetry old.
func TestNoSpaceVerdictIsRemembered(t *testing.T) {
	const retry = 200 * time.Millisecond
	for _, method := range []string{"MakeRoom", "Reclaim"} {
		t.Run(method, func(t *testing.T) {
			st := newFakeStore(1)
			st.add("held", 60)
			st.add("free", 30)
			st.hold("held", true)
			c, _ := newCache(t, cache.Config{MaxSize: 100}, st, nil, nil, cache.Options{NoSpaceRetry: retry})
			call := c.MakeRoom
			if method == "Reclaim" {
				call = c.Reclaim
			}
			listings := func() int { _, n := st.counts(); return n }

			began := time.Now()
			if err := call(50); !errors.Is(err, cache.ErrNoSpace) { // 40 short, 30 evictable
				t.Fatalf("%s(50) = %v", method, err)
			}
			n := listings()
			for range 100 {
				if err := call(50); !errors.Is(err, cache.ErrNoSpace) {
					t.Fatalf("%s(50) again = %v", method, err)
				}
				if err := call(60); !errors.Is(err, cache.ErrNoSpace) {
					t.Fatalf("%s(60) = %v", method, err)
				}
			}
			if time.Since(began) < retry {
				if got := listings(); got != n {
					t.Fatalf("%d listings for the same question while the cache stayed full", got-n)
				}
			}
			// A smaller question is answered afresh.
			if err := call(30); err != nil {
				t.Fatalf("%s(30) = %v", method, err)
			}
			if got := listings(); got != n+1 {
				t.Fatalf("%d listings for a new question, want 1", got-n)
			}
			// That evicted "free": the verdict is void.
			if got := st.removedIDs(); !slices.Equal(got, []string{"free"}) {
				t.Fatalf("removed %v", got)
			}
			st.hold("held", false) // unseen by the cache: only time tells
			if err := call(50); err != nil {
				t.Fatalf("%s(50) after an eviction = %v", method, err)
			}
		})
	}
}

func TestNoSpaceVerdictExpires(t *testing.T) {
	const retry = 50 * time.Millisecond
	st := newFakeStore(1)
	st.add("held", 90)
	st.hold("held", true)
	c, _ := newCache(t, cache.Config{MaxSize: 100}, st, nil, nil, cache.Options{NoSpaceRetry: retry})
	if err := c.MakeRoom(20); !errors.Is(err, cache.ErrNoSpace) {
		t.Fatal(err)
	}
	st.hold("held", false) // the reader closed it
	time.Sleep(2 * retry)
	if err := c.MakeRoom(20); err != nil {
		t.Fatalf("MakeRoom after the verdict expired = %v", err)
	}
	if got := st.removedIDs(); !slices.Equal(got, []string{"held"}) {
		t.Fatalf("removed %v", got)
	}
}

// An entry gone between the listing and its removal (a fill promoted to a
// blob) is routine: no warning, no eviction counted, and room is made from
// the next listing.
func TestVanishedVictimIsNotAWarning(t *testing.T) {
	st := newFakeStore(1)
	st.add("fill", 30)
	st.add("old", 30)
	st.add("new", 30)
	st.onRemove = func(id string) error {
		if id != "fill" {
			return nil
		}
		// Promoted meanwhile: the fill is now a blob, just used.
		st.mu.Lock()
		e := st.entries["fill"]
		delete(st.entries, "fill")
		e.ID = "blob"
		st.tick++
		e.LastAccess = time.Unix(st.tick, 0)
		st.entries["blob"] = e
		st.mu.Unlock()
		return fmt.Errorf("remove %s: %w", id, fs.ErrNotExist)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	reg := prometheus.NewRegistry()
	c, err := cache.New(cache.Params{Config: cache.Config{Dir: t.TempDir(), MaxSize: 100}, Logger: zap.New(core),
		Registerer: reg, Options: cache.Options{Statfs: roomyDisk}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.MakeRoom(st, 20); err != nil {
		t.Fatal(err)
	}
	if got, want := st.removedIDs(), []string{"old"}; !slices.Equal(got, want) {
		t.Fatalf("removed %v, want %v", got, want)
	}
	for _, e := range logs.All() {
		if e.Level > zapcore.DebugLevel {
			t.Errorf("logged at %v: %s %v", e.Level, e.Message, e.ContextMap())
		}
	}
	if got := value(t, reg, "musicfs_cache_evictions_total"); got != 1 {
		t.Errorf("musicfs_cache_evictions_total = %v, want 1", got)
	}
}
