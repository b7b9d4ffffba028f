package index_test

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
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

	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a running origins + index graph over real directories.
type env struct {
	ix   *index.Index
	src  index.Source
	set  origins.Set
	reg  *prometheus.Registry
	logs *observer.ObservedLogs
	app  *fxtest.App

	stopped bool
}

type envOpt struct {
	cfg      *index.Config
	decorate func(origins.Set) origins.Set
	mounted  index.MountChecker
	// tweak changes the index after New, before Start.
	tweak func(*index.Index)
	// startErr, when set, receives Start's error instead of failing the test.
	startErr *error
}

// start runs origins.Module and index.Module over roots (name → dir) and
// waits for nothing: callers wait for what they need.
func start(t *testing.T, roots map[string]string, opt envOpt) *env {
	t.Helper()
	var oc origins.Config
	names := make([]string, 0, len(roots))
	for name := range roots {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		oc.Origins = append(oc.Origins, origins.OriginConfig{Name: name, Path: roots[name]})
	}
	oc.ReadTimeout = 5 * time.Second
	core, logs := observer.New(zapcore.DebugLevel)
	e := &env{reg: prometheus.NewRegistry(), logs: logs}
	opts := []fx.Option{
		origins.Module,
		index.Module,
		fx.Supply(oc),
		fx.Provide(func() *zap.Logger {
			return zap.New(zapcore.NewTee(core, zaptest.NewLogger(t, zaptest.Level(zapcore.InfoLevel)).Core()))
		}),
		fx.Provide(func() prometheus.Registerer { return e.reg }),
		fx.Populate(&e.ix, &e.src, &e.set),
	}
	if opt.cfg != nil {
		opts = append(opts, fx.Supply(*opt.cfg))
	}
	if opt.decorate != nil {
		opts = append(opts, fx.Decorate(opt.decorate))
	}
	if opt.mounted != nil {
		opts = append(opts, fx.Provide(func() index.MountChecker { return opt.mounted }))
	}
	if opt.tweak != nil {
		opts = append(opts, fx.Invoke(opt.tweak))
	}
	e.app = fxtest.New(t, opts...)
	if opt.startErr != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if *opt.startErr = e.app.Start(ctx); *opt.startErr != nil {
			e.stopped = true // fx has stopped what had started
			return e
		}
	} else {
		e.app.RequireStart()
	}
	t.Cleanup(e.stop)
	return e
}

// stop stops the graph; later calls do nothing.
func (e *env) stop() {
	if !e.stopped {
		e.stopped = true
		e.app.RequireStop()
	}
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitScanned waits for the first scan, failing the test after d.
func (e *env) waitScanned(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case <-e.ix.Scanned():
	case <-time.After(d):
		t.Fatalf("first scan not finished within %v; stats %+v", d, e.ix.Stats())
	}
}

// rescan asks for a rescan and waits until it has completed.
func (e *env) rescan(t *testing.T) {
	t.Helper()
	before := e.ix.Stats().ScanDone
	e.ix.Rescan()
	deadline := time.Now().Add(10 * time.Second)
	for e.ix.Stats().ScanDone <= before {
		if time.Now().After(deadline) {
			t.Fatalf("rescan not finished within 10s; stats %+v", e.ix.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// byPath indexes the current tracks by "origin/relpath".
func (e *env) byPath() map[string]*index.Track {
	m := map[string]*index.Track{}
	for _, t := range e.ix.Tracks() {
		m[t.Origin+"/"+t.RelPath] = t
	}
	return m
}

// faultySet wraps a set so that chosen files misbehave.
type faultySet struct {
	origins.Set
	f *faults
}

type faults struct {
	hang     map[string]bool // relpaths whose ReadAt blocks until release is closed
	panics   map[string]bool // relpaths whose Open panics
	release  chan struct{}
	opens    sync.Map // relpath → *atomic.Int64
	read     sync.Map // relpath → *atomic.Int64: bytes read
	walkErr  error    // returned by Walk after listing everything but skipWalk
	skip     string   // relpath Walk does not list when walkErr is set
	walks    atomic.Int64
	dirWalks atomic.Int64
	delay    time.Duration // added to every Open
	// skipDirs are directories Walk and WalkDir do not list, returning an
	// *origins.IncompleteError naming them, like unreadable directories.
	skipDirs []string
	hangStat map[string]bool // relpaths whose Stat blocks until release is closed
	hung     atomic.Int64    // Stat calls that blocked
}

// skipped reports whether rel is under one of skipDirs.
func (f *faults) skipped(rel string) bool {
	for _, d := range f.skipDirs {
		if strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// incomplete is the error of a walk that skipped skipDirs, or nil.
func (f *faults) incomplete(origin string) error {
	if len(f.skipDirs) == 0 {
		return nil
	}
	return &origins.IncompleteError{Origin: origin, Skipped: f.skipDirs}
}

func (s faultySet) List() []origins.Origin {
	var out []origins.Origin
	for _, o := range s.Set.List() {
		out = append(out, faultyOrigin{o, s.f})
	}
	return out
}

func (s faultySet) Get(name string) (origins.Origin, bool) {
	o, ok := s.Set.Get(name)
	if !ok {
		return nil, false
	}
	return faultyOrigin{o, s.f}, true
}

type faultyOrigin struct {
	origins.Origin
	f *faults
}

func (o faultyOrigin) Open(ctx context.Context, rel string) (origins.File, error) {
	n, _ := o.f.opens.LoadOrStore(rel, new(atomic.Int64))
	n.(*atomic.Int64).Add(1)
	time.Sleep(o.f.delay)
	if o.f.panics[rel] {
		panic("origin exploded opening " + rel)
	}
	f, err := o.Origin.Open(ctx, rel)
	if err != nil {
		return nil, err
	}
	n, _ = o.f.read.LoadOrStore(rel, new(atomic.Int64))
	f = countingFile{f, n.(*atomic.Int64)}
	if o.f.hang[rel] {
		f = hangingFile{f, o.f.release}
	}
	return f, nil
}

func (o faultyOrigin) Walk(ctx context.Context, fn func(origins.Entry) error) error {
	o.f.walks.Add(1)
	if len(o.f.skipDirs) > 0 {
		return o.walkSkipping(func(fn func(origins.Entry) error) error { return o.Origin.Walk(ctx, fn) }, fn)
	}
	if o.f.walkErr == nil {
		return o.Origin.Walk(ctx, fn)
	}
	if err := o.Origin.Walk(ctx, func(e origins.Entry) error {
		if e.RelPath == o.f.skip {
			return nil
		}
		return fn(e)
	}); err != nil {
		return err
	}
	return o.f.walkErr
}

func (o faultyOrigin) WalkDir(ctx context.Context, dir string, fn func(origins.Entry) error) error {
	o.f.dirWalks.Add(1)
	return o.walkSkipping(func(fn func(origins.Entry) error) error { return o.Origin.WalkDir(ctx, dir, fn) }, fn)
}

// walkSkipping runs walk without the entries under skipDirs, and then
// reports them skipped, as a walk meeting unreadable directories does.
func (o faultyOrigin) walkSkipping(walk func(func(origins.Entry) error) error, fn func(origins.Entry) error) error {
	if err := walk(func(e origins.Entry) error {
		if o.f.skipped(e.RelPath) {
			return nil
		}
		return fn(e)
	}); err != nil {
		return err
	}
	return o.f.incomplete(o.Name())
}

// Stat of a hangStat path blocks, as on a hung NAS, until release or ctx
// ends (an origin's calls end with their context).

func (o faultyOrigin) Stat(ctx context.Context, rel string) (fs.FileInfo, error) {
	if o.f.hangStat[rel] {
		o.f.hung.Add(1)
		select {
		case <-o.f.release:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
	return o.Origin.Stat(ctx, rel)
}

func (f *faults) opened(rel string) int64 { return load(&f.opens, rel) }

// openedAny is how many files were opened in all.
func (f *faults) openedAny() int64 {
	var n int64
	f.opens.Range(func(_, v any) bool {
		n += v.(*atomic.Int64).Load()
		return true
	})
	return n
}

func (f *faults) bytesRead(rel string) int64 { return load(&f.read, rel) }

func load(m *sync.Map, rel string) int64 {
	n, ok := m.Load(rel)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

// hangingFile blocks every read until release is closed, like a read from a
// hung network mount, or until its context ends.
type hangingFile struct {
	origins.File
	release chan struct{}
}

func (h hangingFile) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	select {
	case <-h.release:
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
	return h.File.ReadAt(ctx, p, off)
}

type countingFile struct {
	origins.File
	n *atomic.Int64
}

func (c countingFile) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	n, err := c.File.ReadAt(ctx, p, off)
	c.n.Add(int64(n))
	return n, err
}

// tagLine renders a record's tag fields for comparison.
func tagLine(t *index.Track) string {
	return fmt.Sprintf("title=%q artists=%q albumartists=%q album=%q genres=%q year=%d track=%d disc=%d/%d compilation=%v",
		t.Title, t.Artists, t.AlbumArtists, t.Album, t.Genres, t.Year, t.Track, t.Disc, t.DiscTotal, t.Compilation)
}
