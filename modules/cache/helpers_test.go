package cache_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/tree"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const MiB = 1 << 20

// song is an audio track of origin "o" with size bytes.
func song(rel, artist, album string, n int, title string, size int64) *index.Track {
	return &index.Track{Origin: "o", RelPath: rel, Size: size, ModTime: modTime, Audio: true, Tagged: true,
		Artists: []string{artist}, Album: album, Title: title, Track: n}
}

func keyOf(t *index.Track) cache.Key {
	return cache.Key{Origin: t.Origin, RelPath: t.RelPath, Size: t.Size, ModTime: t.ModTime}
}

// startTree builds and starts a tree over src; stopped in cleanup.
func startTree(t *testing.T, src index.Source) *tree.Tree {
	t.Helper()
	tr, err := tree.New(tree.Params{Source: src, Config: tree.DefaultConfig(), Logger: zap.NewNop(),
		Registerer: prometheus.NewRegistry(), Options: tree.Options{MinInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Stop(context.Background()) })
	return tr
}

// testCache is a Cache over a fake store, which it is asked about as the
// store would ask.
type testCache struct {
	*cache.Cache
	st  cache.Store
	tr  *tree.Tree
	set fakeSet
}

func (c *testCache) MakeRoom(need int64) error { return c.Cache.MakeRoom(c.st, need) }
func (c *testCache) Reclaim(need int64) error  { return c.Cache.Reclaim(c.st, need) }

// spacedStore is a fake store that asks a Space before its writes.
type spacedStore interface {
	cache.Store
	SetSpace(cas.Space)
}

// newCache builds a Cache without fx, as st's Space; the caller starts its
// Worker if it needs the background work.
func newCache(t *testing.T, cfg cache.Config, st spacedStore, tr *tree.Tree, set fakeSet, opt cache.Options) (*testCache, *prometheus.Registry) {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if opt.Statfs == nil {
		opt.Statfs = roomyDisk
	}
	reg := prometheus.NewRegistry()
	c, err := cache.New(cache.Params{Config: cfg, Logger: zaptest.NewLogger(t), Registerer: reg, Options: opt})
	if err != nil {
		t.Fatal(err)
	}
	st.SetSpace(c)
	return &testCache{Cache: c, st: st, tr: tr, set: set}, reg
}

// roomyDisk is a filesystem that never gets near min_free.
func roomyDisk(string) (cache.Disk, error) { return cache.Disk{Total: 1 << 50, Avail: 1 << 49}, nil }

// startCache starts c's Worker, stopped in cleanup.
func startCache(t *testing.T, c *testCache) {
	t.Helper()
	w := cache.NewWorker(cache.WorkerParams{Cache: c.Cache, Store: c.st, Tree: c.tr, Origins: c.set})
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
}

// eventually fails the test if cond does not hold within 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// value reads an unlabelled gauge or counter.
func value(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			m := mf.GetMetric()[0]
			return m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	t.Fatalf("metric %s not registered", name)
	return 0
}
