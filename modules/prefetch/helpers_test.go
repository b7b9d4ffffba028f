package prefetch_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/musicfs/musicfs/internal/testing/indextest"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/prefetch"
	"github.com/musicfs/musicfs/modules/tree"
)

const MiB = 1 << 20

// call is one Fetch as the fake saw it.
type call struct {
	Key    prefetch.Key
	Off, N int64
}

func (c call) String() string {
	return fmt.Sprintf("%s/%s[%d+%d]", c.Key.Origin, c.Key.RelPath, c.Off, c.N)
}

// fakeFetcher records every call. When block is set, Fetch waits for its
// ctx; otherwise it returns err.
type fakeFetcher struct {
	block bool          // wait for ctx
	gate  chan struct{} // if set, wait for it to close (or for ctx)
	err   error

	mu    sync.Mutex
	calls []call

	started chan call    // every call, as it starts
	ended   chan error   // every call's result, as it returns
	running atomic.Int32 // calls in progress
}

func newFakeFetcher() *fakeFetcher {
	return &fakeFetcher{started: make(chan call, 4096), ended: make(chan error, 4096)}
}

func (f *fakeFetcher) Fetch(ctx context.Context, k prefetch.Key, off, n int64) (err error) {
	f.running.Add(1)
	defer f.running.Add(-1)
	c := call{k, off, n}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	// Never block: a broken prefetcher must fail the test, not hang it.
	select {
	case f.started <- c:
	default:
	}
	defer func() {
		select {
		case f.ended <- err:
		default:
		}
	}()
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return f.err
}

func (f *fakeFetcher) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func track(rel string, disc, no int, size int64) *index.Track {
	return &index.Track{Origin: "o", RelPath: rel, Size: size, ModTime: time.Unix(1e9, 0), Audio: true, Tagged: true,
		Artists: []string{"A"}, Album: "Al", Title: rel, Disc: disc, Track: no}
}

func keyOf(t *index.Track) prefetch.Key {
	return prefetch.Key{Origin: t.Origin, RelPath: t.RelPath, Size: t.Size, ModTime: t.ModTime}
}

type harness struct {
	p    *prefetch.Prefetcher
	f    *fakeFetcher
	src  *indextest.Source
	tree *tree.Tree
	reg  *prometheus.Registry
	logs *observer.ObservedLogs
}

// start runs a tree over tracks and a started prefetcher over the tree;
// both are stopped in cleanup.
func start(t *testing.T, cfg prefetch.Config, f *fakeFetcher, tracks ...*index.Track) *harness {
	t.Helper()
	h := &harness{f: f, src: indextest.NewSource(tracks...), reg: prometheus.NewRegistry()}
	core, logs := observer.New(zap.DebugLevel)
	h.logs = logs
	logger := zaptest.NewLogger(t, zaptest.WrapOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, core)
	})))
	var err error
	h.tree, err = tree.New(tree.Params{Source: h.src, Config: tree.DefaultConfig(), Logger: logger,
		Registerer: prometheus.NewRegistry(), Options: tree.Options{MinInterval: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.tree.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.tree.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	<-h.tree.Swapped() // the first build's signal
	h.p, err = prefetch.New(prefetch.Params{Config: cfg, Fetcher: f, Tree: h.tree, Source: h.src,
		Logger: logger.Named("prefetch"), Registerer: h.reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.p.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := h.p.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return h
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

// none fails if something arrives on ch within a short while.
func none[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %v", what, v)
	case <-time.After(50 * time.Millisecond):
	}
}
