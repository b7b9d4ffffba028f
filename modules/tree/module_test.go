package tree_test

import (
	"context"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/musicfs/musicfs/internal/testing/indextest"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/tree"
)

func song(rel, artist, title string) *index.Track {
	return &index.Track{Origin: "o", RelPath: rel, Size: 10, ModTime: time.Unix(1e9, 0), Audio: true, Tagged: true,
		Artists: []string{artist}, Album: "Al", Title: title, Track: 1}
}

type harness struct {
	app    *fxtest.App
	tree   *tree.Tree
	reg    *prometheus.Registry
	logs   *observer.ObservedLogs
	errors chan zapcore.Entry
}

func start(t *testing.T, src index.Source) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry(), errors: make(chan zapcore.Entry, 10)}
	core, logs := observer.New(zap.DebugLevel)
	h.logs = logs
	logger := zaptest.NewLogger(t, zaptest.WrapOptions(
		zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, core) }),
		zap.Hooks(func(e zapcore.Entry) error {
			if e.Level >= zapcore.ErrorLevel {
				h.errors <- e
			}
			return nil
		}),
	))
	h.app = fxtest.New(t,
		tree.Module,
		fx.Supply(tree.DefaultConfig(), tree.Options{MinInterval: time.Millisecond}),
		fx.Provide(
			func() index.Source { return src },
			func() *zap.Logger { return logger },
			func() prometheus.Registerer { return h.reg },
		),
		fx.Populate(&h.tree),
	)
	h.app.RequireStart()
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

func TestModuleRebuildsOnUpdate(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	src := indextest.NewSource(song("a.flac", "A", "One"))
	h := start(t, src)

	s1 := h.tree.Current()
	if s1 == nil || s1.LookupPath("Artists/A/Al/01 One.flac") == nil {
		t.Fatal("first snapshot lacks the track")
	}
	wait(t, h.tree.Swapped(), "first swap signal")
	if got := promtest.Value(t, h.reg, "musicfs_tracks"); got != 1 {
		t.Fatalf("musicfs_tracks = %v", got)
	}

	src.Set(song("a.flac", "A", "One"), song("b.flac", "B", "Two"))
	wait(t, h.tree.Swapped(), "swap after update")
	s2 := h.tree.Current()
	if s2 == s1 || s2.LookupPath("Artists/B/Al/01 Two.flac") == nil || s2.Tracks() != 2 {
		t.Fatal("update not visible")
	}
	if s1.LookupPath("Artists/B") != nil {
		t.Fatal("the old snapshot changed")
	}
	if got := promtest.Value(t, h.reg, "musicfs_tracks"); got != 2 {
		t.Fatalf("musicfs_tracks = %v", got)
	}
	if got := promtest.Value(t, h.reg, "musicfs_tree_nodes"); got != float64(s2.Len()) {
		t.Fatalf("musicfs_tree_nodes = %v, want %d", got, s2.Len())
	}
	if h.logs.FilterMessage("tree rebuilt").FilterField(zap.Int("tracks", 2)).Len() != 1 {
		t.Fatalf("no info log for the changed track count: %v", h.logs.All())
	}
	h.app.RequireStop()
}

// value reads a gauge or counter without labels from reg.
func TestModuleRebuildPanicKeepsOldSnapshot(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	// The tree returns free memory to the OS once rebuilds settle, on the
	// goroutine that rebuilds. Heap freed by earlier tests (a 20k-track
	// snapshot) made that take seconds under -race with the readers below
	// spinning, past the wait for the retry's swap; return it now.
	debug.FreeOSMemory()
	src := indextest.NewSource(song("a.flac", "A", "One"))
	src.PanicOn(2)
	h := start(t, src)
	wait(t, h.tree.Swapped(), "first swap signal")
	old := h.tree.Current()

	// Readers hammer the tree throughout; none may ever block.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	var reads atomic.Int64
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := h.tree.Current()
				if s == nil || s.Lookup(s.Root(), "Artists") == nil || s.LookupPath("Artists/A/Al/01 One.flac") == nil {
					panic("reader saw a broken snapshot")
				}
				reads.Add(1)
			}
		})
	}

	src.Set(song("a.flac", "A", "One"), song("b.flac", "B", "Two"))
	e := wait(t, h.errors, "panic log")
	if !strings.Contains(e.Message, "panic") {
		t.Fatalf("error log %q", e.Message)
	}
	if h.tree.Current() != old {
		t.Fatal("snapshot replaced by a panicking rebuild")
	}
	if got := promtest.Value(t, h.reg, "musicfs_tree_rebuild_panics_total"); got != 1 {
		t.Fatalf("panics counter = %v", got)
	}
	entry := h.logs.FilterLevelExact(zapcore.ErrorLevel).All()[0]
	if st, _ := entry.ContextMap()["stack"].(string); !strings.Contains(st, "indextest.(*Source).Tracks") {
		t.Fatalf("panic log has no stack: %v", entry.ContextMap())
	}

	// The next update retries and succeeds.
	src.Set(song("a.flac", "A", "One"), song("b.flac", "B", "Two"))
	wait(t, h.tree.Swapped(), "swap after retry")
	if h.tree.Current().LookupPath("Artists/B") == nil {
		t.Fatal("retry did not publish")
	}

	close(stop)
	done := make(chan struct{})
	go func() { readers.Wait(); close(done) }()
	wait(t, done, "readers to finish (a reader blocked)")
	if reads.Load() == 0 {
		t.Fatal("readers made no progress")
	}
	h.app.RequireStop()
}

func TestModuleFirstBuildPanicStartsEmpty(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	src := indextest.NewSource(song("a.flac", "A", "One"))
	src.PanicOn(1)
	h := start(t, src)
	s := h.tree.Current()
	if s == nil {
		t.Fatal("nil snapshot after a panicking first build")
	}
	var names []string
	for _, c := range s.Children(s.Root()) {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != "Albums,Artists,Genres,Origins,Years" || s.Tracks() != 0 {
		t.Fatalf("empty snapshot has %q", names)
	}
	if got := promtest.Value(t, h.reg, "musicfs_tree_rebuild_panics_total"); got != 1 {
		t.Fatalf("panics counter = %v", got)
	}
	wait(t, h.tree.Swapped(), "first swap signal")
	src.Set(song("a.flac", "A", "One"))
	wait(t, h.tree.Swapped(), "swap after update")
	if h.tree.Current().Tracks() != 1 {
		t.Fatal("recovery build did not publish")
	}
	h.app.RequireStop()
}

func TestModuleRateLimit(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	src := indextest.NewSource()
	tr, err := tree.New(tree.Params{
		Source: src, Config: tree.DefaultConfig(), Logger: zaptest.NewLogger(t),
		Registerer: prometheus.NewRegistry(), Options: tree.Options{MinInterval: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-tr.Swapped()
	began := time.Now()
	for i := range 3 {
		src.Set(song("a.flac", "A", strings.Repeat("x", i+1)))
		wait(t, tr.Swapped(), "swap")
	}
	if d := time.Since(began); d < 400*time.Millisecond {
		t.Fatalf("3 rebuilds in %v despite MinInterval 200ms", d)
	}
	if err := tr.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := tree.New(tree.Params{
		Source: indextest.NewSource(), Config: tree.Config{Views: []tree.View{{Name: "A", Template: "{x}"}}},
		Logger: zap.NewNop(), Registerer: prometheus.NewRegistry(),
	})
	if err == nil || !strings.Contains(err.Error(), "views[0].template") {
		t.Fatalf("New = %v", err)
	}
}

func TestModuleValidates(t *testing.T) {
	if err := fx.ValidateApp(tree.Module, fx.NopLogger,
		fx.Supply(tree.DefaultConfig()),
		fx.Provide(
			func() index.Source { return indextest.NewSource() },
			func() *zap.Logger { return zap.NewNop() },
			func() prometheus.Registerer { return prometheus.NewRegistry() },
		),
	); err != nil {
		t.Fatal(err)
	}
}

// The first index update after start (a first run's first scan batch) is
// applied at once; only later ones wait for MinInterval.
func TestFirstUpdateNotDelayed(t *testing.T) {
	src := indextest.NewSource()
	tr, err := tree.New(tree.Params{
		Source: src, Config: tree.DefaultConfig(), Logger: zaptest.NewLogger(t),
		Registerer: prometheus.NewRegistry(), Options: tree.Options{MinInterval: time.Hour},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := tr.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}()
	<-tr.Swapped() // the first build
	src.Set(song("a.flac", "A", "One"))
	wait(t, tr.Swapped(), "the first update's rebuild, despite MinInterval 1h")
	if tr.Current().LookupPath("Artists/A/Al/01 One.flac") == nil {
		t.Fatal("first update not in the tree")
	}
}
