package content_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/content"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// countingSet counts the files opened through it and still open.
type countingSet struct {
	origins.Set
	opened, open atomic.Int64
}

func (s *countingSet) Get(name string) (origins.Origin, bool) {
	o, ok := s.Set.Get(name)
	if !ok {
		return nil, false
	}
	return countingOrigin{o, s}, true
}

type countingOrigin struct {
	origins.Origin
	s *countingSet
}

func (o countingOrigin) Open(ctx context.Context, rel string) (origins.File, error) {
	f, err := o.Origin.Open(ctx, rel)
	if err == nil {
		o.s.opened.Add(1)
		o.s.open.Add(1)
		f = countingFile{f, o.s}
	}
	return f, err
}

type countingFile struct {
	origins.File
	s *countingSet
}

func (f countingFile) Close() error {
	f.s.open.Add(-1)
	return f.File.Close()
}

type offline []string

func (o offline) Offline() []string { return o }

type env struct {
	lib    string
	set    *countingSet
	store  *cas.Store
	track  *index.Track
	data   []byte
	offl   *offline
	fetch  *content.Fetcher
	cached *content.Contents
	direct *content.Contents // lib with cache: false
}

func setup(t *testing.T) *env {
	t.Helper()
	e := &env{lib: t.TempDir(), data: bytes.Repeat([]byte("musicfs "), 300000), offl: &offline{}}
	p := filepath.Join(e.lib, "a.flac")
	if err := os.WriteFile(p, e.data, 0o644); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(p)
	e.track = &index.Track{Origin: "lib", RelPath: "a.flac", Size: st.Size(), ModTime: st.ModTime(), Audio: true}
	ocfg := origins.Config{Origins: []origins.OriginConfig{{Name: "lib", Path: e.lib, Cache: true}}, ReadTimeout: 2 * time.Second}
	reg, err := origins.New(origins.Params{Config: ocfg, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	e.set = &countingSet{Set: reg}
	e.store, err = cas.New(cas.Params{Config: cas.Config{Dir: t.TempDir(), ReadTimeout: 2 * time.Second},
		Logger: zaptest.NewLogger(t), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.store.Stop(context.Background()) })
	e.fetch = content.NewFetcher(content.FetcherParams{Origins: e.set, Store: e.store, Offline: e.offl})
	e.cached = content.New(content.Params{Fetcher: e.fetch, OriginsConfig: ocfg})
	ocfg.Origins[0].Cache = false
	e.direct = content.New(content.Params{Fetcher: e.fetch, OriginsConfig: ocfg})
	return e
}

func readAll(t *testing.T, h *content.Handle, size int64) []byte {
	t.Helper()
	buf := make([]byte, size)
	if n, err := h.ReadAt(context.Background(), buf, 0); int64(n) != size || (err != nil && n != len(buf)) {
		t.Fatalf("ReadAt = %d, %v", n, err)
	}
	return buf
}

// Through the cache the origin is opened only when a block must come from
// it, and closed with the handle; with cache: false it is opened at once.
func TestOpenIsLazyThroughTheCache(t *testing.T) {
	e := setup(t)
	h, err := e.cached.Open(context.Background(), e.track)
	if err != nil {
		t.Fatal(err)
	}
	if !h.Cached() || e.set.opened.Load() != 0 {
		t.Fatalf("cached open: Cached %v, %d origin opens; want true, 0", h.Cached(), e.set.opened.Load())
	}
	if got := readAll(t, h, e.track.Size); !bytes.Equal(got, e.data) {
		t.Fatal("bytes differ from the origin's")
	}
	h.Close()
	if e.set.opened.Load() != 1 || e.set.open.Load() != 0 {
		t.Fatalf("%d origin opens, %d still open; want 1, 0", e.set.opened.Load(), e.set.open.Load())
	}

	h, err = e.direct.Open(context.Background(), e.track)
	if err != nil {
		t.Fatal(err)
	}
	if h.Cached() || e.set.opened.Load() != 2 {
		t.Fatalf("uncached open: Cached %v, %d origin opens; want false, 2", h.Cached(), e.set.opened.Load())
	}
	if _, ok := h.Blob(); ok {
		t.Fatal("an uncached handle has a blob")
	}
	h.Close()
}

// Fetch (prefetch's and pinning's way in) opens the origin only for what is
// missing and closes it.
func TestFetchOpensTheOriginOnlyForMissingBytes(t *testing.T) {
	e := setup(t)
	k := cas.Key{Origin: "lib", RelPath: "a.flac", Size: e.track.Size, ModTime: e.track.ModTime}
	for range 2 {
		if err := e.fetch.Fetch(context.Background(), k, 0, k.Size); err != nil {
			t.Fatal(err)
		}
	}
	if present, complete := e.store.Cached(k); !complete || present != k.Size {
		t.Fatalf("after Fetch: %d bytes cached, complete %v", present, complete)
	}
	if e.set.opened.Load() != 1 || e.set.open.Load() != 0 {
		t.Fatalf("%d origin opens, %d still open; want 1, 0", e.set.opened.Load(), e.set.open.Load())
	}
}

// A track of an origin no longer configured is not there (ENOENT); one of
// an origin the index holds offline is an I/O error (EIO), whatever the
// origin says.
func TestOriginErrors(t *testing.T) {
	e := setup(t)
	stale := *e.track
	stale.Origin = "gone"
	_, err := e.direct.Open(context.Background(), &stale)
	if !errors.Is(err, origins.ErrUnknownOrigin) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open of an unknown origin's track: %v, want ErrUnknownOrigin and fs.ErrNotExist", err)
	}
	if err := os.Remove(filepath.Join(e.lib, "a.flac")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.direct.Open(context.Background(), e.track); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open of a deleted file: %v, want fs.ErrNotExist", err)
	}
	*e.offl = offline{"lib"}
	_, err = e.direct.Open(context.Background(), e.track)
	if !errors.Is(err, origins.ErrOffline) || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open with the origin held offline: %v, want ErrOffline only", err)
	}
}
