package cache_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/musicfs/musicfs/internal/testing/indextest"
	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

type moduleHarness struct {
	app    *fxtest.App
	cache  *cache.Cache
	store  *fakeStore
	origin *fakeOrigin
	src    *indextest.Source
	reg    *prometheus.Registry
	logs   *observer.ObservedLogs
}

// startModule runs the cache module with the tree module over src, a fake
// store and one fake origin "o" holding random content for every track.
func startModule(t *testing.T, cfg cache.Config, src *indextest.Source, origin *fakeOrigin, block int64) *moduleHarness {
	t.Helper()
	h := &moduleHarness{store: newFakeStore(block), origin: origin, src: src, reg: prometheus.NewRegistry()}
	core, logs := observer.New(zap.DebugLevel)
	h.logs = logs
	logger := zaptest.NewLogger(t, zaptest.WrapOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, core) })))
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	h.app = fxtest.New(t,
		cache.Module,
		tree.Module,
		fx.Supply(cfg, tree.DefaultConfig(), tree.Options{MinInterval: time.Millisecond},
			cache.Options{Statfs: roomyDisk, PinRetry: 10 * time.Millisecond, PinRetryMax: 50 * time.Millisecond, TreePoll: 5 * time.Millisecond}),
		fx.Provide(
			func() index.Source { return src },
			func() cache.Store { return h.store },
			func() origins.Set { return fakeSet{origin} },
			func() *zap.Logger { return logger },
			func() prometheus.Registerer { return h.reg },
		),
		// What the app does for the real store: the cache is its Space.
		fx.Invoke(func(c *cache.Cache) { h.store.SetSpace(c) }),
		fx.Populate(&h.cache),
	)
	h.app.RequireStart()
	return h
}

// originFor holds random content for the tracks.
func originFor(tracks ...*index.Track) *fakeOrigin {
	o := &fakeOrigin{name: "o", files: map[string][]byte{}}
	r := rand.New(rand.NewPCG(1, 2))
	for _, t := range tracks {
		b := make([]byte, t.Size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		o.files[t.RelPath] = b
	}
	return o
}

func TestPinWorkerFetchesPinnedAlbum(t *testing.T) {
	const size, block = 300 << 10, 64 << 10
	pinned, other, src := pinnedLibrary(t, size)
	third := song("nina/3.flac", "Nina Simone", "Pastel Blues", 3, "Sinnerman", size)
	origin := originFor(append(append(pinned, other...), third)...)
	origin.failOpens.Store(3) // the origin is asleep at first: retried with backoff
	h := startModule(t, cache.Config{MaxSize: 1 << 30, Pin: []string{"Artists/Nina Simone/**"}}, src, origin, block)

	eventually(t, "the pinned album cached", func() bool {
		st := h.cache.PinStatus()
		keys, bytes := st.Tracks, st.BytesCached
		return keys == 2 && bytes == 2*size
	})
	for _, tr := range pinned {
		if present, complete := h.store.Cached(keyOf(tr)); !complete || present != size {
			t.Fatalf("%s: %d bytes present, complete %v", tr.RelPath, present, complete)
		}
	}
	for _, tr := range other {
		if present, _ := h.store.Cached(keyOf(tr)); present != 0 {
			t.Fatalf("unpinned %s was fetched", tr.RelPath)
		}
	}
	if got := origin.opens.Load(); got < 5 {
		t.Fatalf("%d opens: the failed ones were not retried", got)
	}
	if got := value(t, h.reg, "musicfs_cache_pinned_bytes"); got != 2*size {
		t.Fatalf("musicfs_cache_pinned_bytes = %v", got)
	}
	st := h.cache.PinStatus()
	if st != (cache.PinStatus{Tracks: 2, TracksCached: 2, Bytes: 2 * size, BytesCached: 2 * size}) {
		t.Fatalf("PinStatus() = %+v", st)
	}
	done := h.logs.FilterMessage("pinned tracks cached").AllUntimed()
	if len(done) == 0 {
		t.Fatalf("no completion log: %v", h.logs.AllUntimed())
	}
	if f := done[len(done)-1].ContextMap(); f["tracks"] != int64(2) || f["bytes"] != int64(2*size) {
		t.Fatalf("completion log fields %v", f)
	}
	if h.logs.FilterMessage("fetch pinned track").Len() == 0 {
		t.Fatal("the origin's failures were not logged")
	}

	// A new track of the album appears in the index: it is pinned too.
	src.Set(append(append(pinned, third), other...)...)
	eventually(t, "the new pinned track cached", func() bool {
		st := h.cache.PinStatus()
		keys, bytes := st.Tracks, st.BytesCached
		return keys == 3 && bytes == 3*size
	})
	h.app.RequireStop()
}

func TestPinnedSurvivesPlayback(t *testing.T) {
	const size, block = 1 * MiB, 128 << 10
	pinned, other, src := pinnedLibrary(t, size)
	var lib []*index.Track
	for i := range 20 {
		lib = append(lib, song(fmt.Sprintf("more/%d.flac", i), "More", "Album", i+1, fmt.Sprint("M", i), size))
	}
	all := append(append(append([]*index.Track{}, pinned...), other...), lib...)
	src.Set(all...)
	origin := originFor(all...)
	h := startModule(t, cache.Config{MaxSize: 5 * MiB, Pin: []string{"Artists/Nina Simone/**"}}, src, origin, block)
	eventually(t, "the pinned album cached", func() bool { st := h.cache.PinStatus(); return st.Tracks == 2 && st.BytesCached == 2*size })

	// Play 20 MiB of other tracks through a 5 MiB cache.
	for _, tr := range lib {
		o, _ := fakeSet{origin}.Get("o")
		open := func(ctx context.Context) (origins.File, error) { return o.Open(ctx, tr.RelPath) }
		if err := h.store.Fetch(context.Background(), keyOf(tr), open, 0, tr.Size); err != nil {
			t.Fatal(err)
		}
	}
	for _, tr := range pinned {
		if _, complete := h.store.Cached(keyOf(tr)); !complete {
			t.Fatalf("pinned %s was evicted", tr.RelPath)
		}
	}
	if high, _ := h.store.marks(); high > 5*MiB+block {
		t.Fatalf("usage reached %d bytes", high)
	}
	h.app.RequireStop()
}

func TestStopCancelsPinFetch(t *testing.T) {
	const size, block = 4 * MiB, 64 << 10
	pinned, other, src := pinnedLibrary(t, size)
	origin := originFor(append(pinned, other...)...)
	origin.delay = 20 * time.Millisecond // 64 blocks: over a second per track
	h := startModule(t, cache.Config{MaxSize: 1 << 30, Pin: []string{"**"}}, src, origin, block)
	eventually(t, "a pinned fetch under way", func() bool { return h.store.Usage() > 0 })

	began := time.Now()
	h.app.RequireStop()
	if took := time.Since(began); took > time.Second {
		t.Fatalf("Stop took %v: the fetch was not cancelled", took)
	}
	// TestMain's goleak check finds any goroutine left behind.
}

func TestModuleValidatesConfig(t *testing.T) {
	app := fx.New(cache.Module, fx.NopLogger,
		fx.Supply(cache.Config{Dir: "/x", MaxSize: 1, Pin: []string{"[bad"}}),
		fx.Provide(
			func() cache.Store { return newFakeStore(1) },
			func() origins.Set { return fakeSet{} },
			func() *tree.Tree { return nil },
			zap.NewNop,
			func() prometheus.Registerer { return prometheus.NewRegistry() },
		),
	)
	if err := app.Err(); err == nil {
		t.Fatal("a bad pin pattern was accepted")
	}
}
