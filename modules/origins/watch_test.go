package origins

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

// watchTest is a started Watcher over real directories.
type watchTest struct {
	t    *testing.T
	w    *Watcher
	set  *Registry
	root string // the first origin's root
	logs *observer.ObservedLogs

	startTook time.Duration // how long Start took
}

// startWatcher starts a watcher on cfgs (an empty Path gets a fresh
// directory). backend nil means the real inotify one; tweak runs before
// Start.
func startWatcher(t *testing.T, cfgs []OriginConfig, backend Backend, tweak func(*Watcher)) *watchTest {
	t.Helper()
	for i := range cfgs {
		if cfgs[i].Path == "" {
			cfgs[i].Path = filepath.Join(t.TempDir(), "root")
			if err := os.Mkdir(cfgs[i].Path, 0o755); err != nil {
				t.Fatal(err)
			}
		}
	}
	core, logs := observer.New(zapcore.DebugLevel)
	log := zap.New(zapcore.NewTee(core, zaptest.NewLogger(t, zaptest.Level(zapcore.InfoLevel)).Core()))
	cfg := Config{Origins: cfgs, ReadTimeout: 5 * time.Second}
	set, err := New(Params{Config: cfg, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	w, err := NewWatcher(WatcherParams{Config: cfg, Set: set, Logger: log, Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(w)
	}
	start := time.Now()
	if err := w.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	startTook := time.Since(start)
	t.Cleanup(func() {
		if err := w.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return &watchTest{t: t, w: w, set: set, root: cfgs[0].Path, logs: logs, startTook: startTook}
}

// waitLog waits for a log message and returns its entry.
func (wt *watchTest) waitLog(msg string, timeout time.Duration) observer.LoggedEntry {
	wt.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if e := wt.logs.FilterMessage(msg).All(); len(e) > 0 {
			return e[0]
		}
		time.Sleep(5 * time.Millisecond)
	}
	wt.t.Fatalf("no %q log within %s", msg, timeout)
	return observer.LoggedEntry{}
}

// watching waits until the initial watches are in.
func (wt *watchTest) watching() observer.LoggedEntry {
	wt.t.Helper()
	return wt.waitLog("watching origin", 10*time.Second)
}

// next returns the next Change, or false after timeout.
func (wt *watchTest) next(timeout time.Duration) (Change, bool) {
	select {
	case c := <-wt.w.Changes():
		return c, true
	case <-time.After(timeout):
		return Change{}, false
	}
}

// waitPaths collects Changes until every path in want was reported, and
// returns them with the time the last one arrived.
func (wt *watchTest) waitPaths(timeout time.Duration, want ...string) ([]Change, time.Time) {
	wt.t.Helper()
	missing := map[string]bool{}
	for _, p := range want {
		missing[p] = true
	}
	var got []Change
	deadline := time.Now().Add(timeout)
	for len(missing) > 0 {
		c, ok := wt.next(time.Until(deadline))
		if !ok {
			wt.t.Fatalf("paths %v not reported within %s; got %+v", keys(missing), timeout, got)
		}
		got = append(got, c)
		for _, p := range c.Paths {
			delete(missing, p)
		}
	}
	return got, time.Now()
}

// quiet fails if a Change with paths arrives within d.
func (wt *watchTest) quiet(d time.Duration) {
	wt.t.Helper()
	if c, ok := wt.next(d); ok {
		wt.t.Fatalf("unexpected change %+v", c)
	}
}

// settle waits d and fails on any Change but a repeat of allowed paths: a
// new directory is reported when it appears and again once its watches are
// in, which may be a separate Change.
func (wt *watchTest) settle(d time.Duration, allowed ...string) {
	wt.t.Helper()
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		c, ok := wt.next(time.Until(deadline))
		if !ok {
			return
		}
		for _, p := range c.Paths {
			if c.Rescan || !slices.Contains(allowed, p) {
				wt.t.Fatalf("unexpected change %+v", c)
			}
		}
	}
}

func keys(m map[string]bool) []string {
	var k []string
	for p := range m {
		k = append(k, p)
	}
	slices.Sort(k)
	return k
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWatcherReportsFileChanges(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	writeFile(t, root, "a/b/c/old.mp3", []byte("1"))
	writeFile(t, root, "a/b/keep.mp3", []byte("1"))
	writeFile(t, root, "top.mp3", []byte("1"))
	wt := startWatcher(t, []OriginConfig{{Name: "m", Path: root, Watch: true}}, nil, nil)
	if got := wt.watching().ContextMap()["dirs"]; got != int64(4) {
		t.Fatalf("watching %v directories, want 4", got)
	}
	abs := func(rel string) string { return filepath.Join(root, rel) }

	var latencies []time.Duration
	for _, tc := range []struct {
		name string
		do   func()
		want []string
	}{
		{"create in a deep directory", func() { writeFile(t, root, "a/b/c/new.mp3", []byte("x")) }, []string{"a/b/c/new.mp3"}},
		{"create at the root", func() { writeFile(t, root, "new.mp3", []byte("x")) }, []string{"new.mp3"}},
		{"write (a re-tag)", func() {
			f, err := os.OpenFile(abs("a/b/keep.mp3"), os.O_WRONLY, 0)
			must(t, err)
			_, err = f.WriteAt([]byte("retagged"), 0)
			must(t, err)
			must(t, f.Close())
		}, []string{"a/b/keep.mp3"}},
		{"remove", func() { must(t, os.Remove(abs("a/b/c/old.mp3"))) }, []string{"a/b/c/old.mp3"}},
		{"rename a file", func() { must(t, os.Rename(abs("top.mp3"), abs("a/moved.mp3"))) }, []string{"top.mp3", "a/moved.mp3"}},
		{"remove a directory", func() { must(t, os.RemoveAll(abs("a/b/c"))) }, []string{"a/b/c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			tc.do()
			got, at := wt.waitPaths(2*time.Second, tc.want...)
			latencies = append(latencies, at.Sub(start))
			for _, c := range got {
				if c.Origin != "m" || c.Rescan {
					t.Fatalf("change %+v, want origin m without rescan", c)
				}
			}
			wt.quiet(250 * time.Millisecond) // one Change per burst
		})
	}
	t.Logf("event-to-Change latency: %v (max %v)", latencies, slices.Max(latencies))
	if m := slices.Max(latencies); m > time.Second {
		t.Fatalf("max latency %v, want well under the 2 s end-to-end target", m)
	}
}

func TestWatcherWatchesNewDirectories(t *testing.T) {
	wt := startWatcher(t, []OriginConfig{{Name: "m", Watch: true}}, nil, nil)
	wt.watching()
	root := wt.root

	// mkdir -p and a file at once: the deeper directories exist before the
	// watcher can watch them; reported as the top one, which the consumer walks.
	writeFile(t, root, "n1/n2/n3/f.mp3", nil)
	got, _ := wt.waitPaths(2*time.Second, "n1")
	for _, c := range got {
		for _, p := range c.Paths {
			if p != "n1" {
				t.Fatalf("reported %q, want only n1 (paths under it collapsed)", p)
			}
		}
	}
	// The deepest one is watched now.
	writeFile(t, root, "n1/n2/n3/g.mp3", nil)
	wt.waitPaths(2*time.Second, "n1/n2/n3/g.mp3")

	// A tree moved in from outside the root.
	outside := t.TempDir()
	writeFile(t, outside, "tree/d/e/h.mp3", nil)
	must(t, os.Rename(filepath.Join(outside, "tree"), filepath.Join(root, "in")))
	wt.waitPaths(2*time.Second, "in")
	wt.settle(300*time.Millisecond, "in")
	writeFile(t, root, "in/d/e/i.mp3", nil)
	wt.waitPaths(2*time.Second, "in/d/e/i.mp3")
}

func TestWatcherFollowsDirectoryRenames(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	writeFile(t, root, "a/b/c/1.mp3", nil)
	wt := startWatcher(t, []OriginConfig{{Name: "m", Path: root, Watch: true}}, nil, nil)
	wt.watching()

	must(t, os.Rename(filepath.Join(root, "a"), filepath.Join(root, "z")))
	wt.waitPaths(2*time.Second, "a", "z")
	wt.settle(300*time.Millisecond, "a", "z")

	// Events from inside the moved tree carry the new name.
	writeFile(t, root, "z/b/c/2.mp3", nil)
	got, _ := wt.waitPaths(2*time.Second, "z/b/c/2.mp3")
	for _, c := range got {
		for _, p := range c.Paths {
			if p != "z/b/c/2.mp3" {
				t.Fatalf("reported %q, want only z/b/c/2.mp3", p)
			}
		}
	}

	// Moved out of the root and back in under another name.
	outside := filepath.Join(t.TempDir(), "out")
	must(t, os.Rename(filepath.Join(root, "z"), outside))
	wt.waitPaths(2*time.Second, "z")
	writeFile(t, outside, "b/c/3.mp3", nil) // not ours any more
	wt.quiet(300 * time.Millisecond)
	must(t, os.Rename(outside, filepath.Join(root, "back")))
	wt.waitPaths(2*time.Second, "back")
	wt.settle(300*time.Millisecond, "back")
	writeFile(t, root, "back/b/c/4.mp3", nil)
	wt.waitPaths(2*time.Second, "back/b/c/4.mp3")
}

func TestWatcherDebounces(t *testing.T) {
	wt := startWatcher(t, []OriginConfig{{Name: "m", Watch: true}}, nil, nil)
	wt.watching()

	t.Run("a burst is one change", func(t *testing.T) {
		var want []string
		for i := range 20 {
			rel := fmt.Sprintf("burst/%02d.mp3", i)
			want = append(want, rel)
		}
		must(t, os.Mkdir(filepath.Join(wt.root, "burst"), 0o755))
		wt.waitPaths(2*time.Second, "burst")
		wt.settle(300*time.Millisecond, "burst")
		for _, rel := range want {
			writeFile(t, wt.root, rel, []byte("a"))
			writeFile(t, wt.root, rel, []byte("b")) // written twice, listed once
		}
		c, ok := wt.next(2 * time.Second)
		if !ok || !slices.Equal(c.Paths, want) {
			t.Fatalf("got %+v, want one change listing %v", c, want)
		}
		wt.quiet(300 * time.Millisecond)
	})

	t.Run("a continuous stream is not held back", func(t *testing.T) {
		f, err := os.Create(filepath.Join(wt.root, "stream.mp3"))
		must(t, err)
		defer f.Close()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := f.Write([]byte("x")); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
		start := time.Now()
		var arrivals []time.Duration
		for len(arrivals) < 3 {
			c, ok := wt.next(2 * time.Second)
			if !ok {
				break
			}
			if slices.Contains(c.Paths, "stream.mp3") {
				arrivals = append(arrivals, time.Since(start))
			}
		}
		close(stop)
		wg.Wait()
		t.Logf("changes during a stream at %v", arrivals)
		if len(arrivals) < 3 {
			t.Fatalf("%d changes while writing continuously, want one every ~%v", len(arrivals), debounceMax)
		}
		for i, a := range arrivals {
			if limit := time.Duration(i+1)*debounceMax + 300*time.Millisecond; a > limit {
				t.Fatalf("change %d after %v, want by %v", i, a, limit)
			}
		}
	})
}

func TestWatcherStartIsPromptOnALargeTree(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	for i := range 100 {
		for j := range 100 {
			must(t, os.MkdirAll(filepath.Join(root, fmt.Sprintf("%03d/%03d", i, j)), 0o755))
		}
	}
	wt := startWatcher(t, []OriginConfig{{Name: "m", Path: root, Watch: true}}, nil, nil)
	started := wt.startTook
	if started > 100*time.Millisecond {
		t.Fatalf("Start took %v with 10,101 directories, want it prompt", started)
	}
	e := wt.watching()
	t.Logf("Start returned after %v; watching %v dirs took %v", started, e.ContextMap()["dirs"], e.ContextMap()["took"])
	if e.ContextMap()["dirs"] != int64(10101) {
		t.Fatalf("watching %v dirs, want 10101", e.ContextMap()["dirs"])
	}
	writeFile(t, root, "099/099/last.mp3", nil)
	wt.waitPaths(2*time.Second, "099/099/last.mp3")
}

// fakeBackend delegates to a real backend (or to nothing) and fails Add with
// err after allow successful calls.
type fakeBackend struct {
	inner  Backend
	err    error
	events chan fsnotify.Event
	errs   chan error

	mu      sync.Mutex
	allow   int
	added   map[string]bool
	removed int
	closed  bool
}

func newFakeBackend(t *testing.T, real bool, allow int, err error) *fakeBackend {
	f := &fakeBackend{err: err, allow: allow, added: map[string]bool{},
		events: make(chan fsnotify.Event), errs: make(chan error)}
	if real {
		b, err := newFSNotifyBackend()
		must(t, err)
		f.inner = b
	}
	return f
}

func (f *fakeBackend) Add(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.allow == 0 {
		return f.err
	}
	f.allow--
	if f.inner != nil {
		if err := f.inner.Add(path); err != nil {
			return err
		}
	}
	f.added[path] = true
	return nil
}

func (f *fakeBackend) Remove(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.added[path] {
		delete(f.added, path)
		f.removed++
	}
	if f.inner != nil {
		return f.inner.Remove(path)
	}
	return nil
}

func (f *fakeBackend) Events() <-chan fsnotify.Event {
	if f.inner != nil {
		return f.inner.Events()
	}
	return f.events
}

func (f *fakeBackend) Errors() <-chan error {
	if f.inner != nil {
		return f.inner.Errors()
	}
	return f.errs
}

func (f *fakeBackend) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	if f.inner != nil {
		return f.inner.Close()
	}
	return nil
}

func (f *fakeBackend) watches() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.added), f.removed
}

func TestWatcherFallsBackOnTheWatchLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		allow int // watches that succeed before the limit
		err   error
		later bool // the limit is hit by a new directory after start
	}{
		{name: "ENOSPC at once", err: syscall.ENOSPC},
		{name: "EMFILE at once", err: syscall.EMFILE},
		{name: "ENOSPC halfway", allow: 5, err: syscall.ENOSPC},
		{name: "ENOSPC on a new directory", allow: 11, err: syscall.ENOSPC, later: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "root")
			for i := range 10 {
				writeFile(t, root, fmt.Sprintf("d%d/f.mp3", i), nil)
			}
			fake := newFakeBackend(t, true, tc.allow, tc.err)
			wt := startWatcher(t, []OriginConfig{{Name: "nas", Path: root, Watch: true}}, fake,
				func(w *Watcher) { w.limitEvery = 100 * time.Millisecond })
			if tc.later {
				wt.watching()
				writeFile(t, root, "new/dir/f.mp3", nil)
			}

			warn := wt.waitLog("inotify watch limit reached: watches dropped, falling back to periodic rescans; raise the sysctl fs.inotify.max_user_watches", 2*time.Second)
			if warn.Level != zapcore.WarnLevel || warn.ContextMap()["origin"] != "nas" {
				t.Fatalf("warning %+v, want a warn naming origin nas", warn)
			}
			rescans := 0
			for deadline := time.Now().Add(2 * time.Second); rescans < 3 && time.Now().Before(deadline); {
				c, ok := wt.next(time.Until(deadline))
				if ok && c.Rescan && c.Origin == "nas" && len(c.Paths) == 0 {
					rescans++
				}
			}
			if rescans < 3 {
				t.Fatalf("%d periodic rescans, want 3", rescans)
			}
			if left, removed := fake.watches(); left != 0 || removed != min(tc.allow, 11) {
				t.Fatalf("%d watches left, %d removed; want all %d dropped", left, removed, min(tc.allow, 11))
			}
			if n := wt.logs.FilterMessageSnippet("watch limit").Len(); n != 1 {
				t.Fatalf("%d limit warnings, want 1", n)
			}
			// No more path changes: only rescans.
			writeFile(t, root, "d0/g.mp3", nil)
			for deadline := time.Now().Add(400 * time.Millisecond); time.Now().Before(deadline); {
				if c, ok := wt.next(time.Until(deadline)); ok && !c.Rescan {
					t.Fatalf("change %+v after the fallback", c)
				}
			}
		})
	}
}

func TestWatcherRescansOnOverflow(t *testing.T) {
	fake := newFakeBackend(t, false, 1000, nil)
	wt := startWatcher(t, []OriginConfig{{Name: "a", Watch: true}, {Name: "b", Watch: true}, {Name: "c"}}, fake, nil)
	wt.watching()
	fake.errs <- fmt.Errorf("read: %w", fsnotify.ErrEventOverflow)
	got := map[string]bool{}
	for len(got) < 2 {
		c, ok := wt.next(time.Second)
		if !ok || !c.Rescan {
			t.Fatalf("got %+v (ok %v), want rescans of a and b", c, ok)
		}
		got[c.Origin] = true
	}
	if !got["a"] || !got["b"] {
		t.Fatalf("rescans of %v, want a and b", got)
	}
	wt.quiet(200 * time.Millisecond) // c is not watched
}

func TestWatcherPeriodicRescans(t *testing.T) {
	wt := startWatcher(t, []OriginConfig{
		{Name: "smb", RescanInterval: 60 * time.Millisecond}, // not watched: inotify sees nothing there
		{Name: "local"}, // neither watched nor rescanned
		{Name: "both", Watch: true, RescanInterval: time.Hour}, // watched, rarely rescanned
	}, nil, nil)
	start := time.Now()
	n := 0
	for n < 4 {
		c, ok := wt.next(time.Second)
		if !ok {
			t.Fatalf("%d rescans after %v, want 4", n, time.Since(start))
		}
		if c.Origin != "smb" || !c.Rescan {
			t.Fatalf("change %+v, want only rescans of smb", c)
		}
		n++
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("4 rescans in %v, want one every 60 ms", d)
	}
}

func TestWatcherOpensNoInotifyWithoutWatchedOrigins(t *testing.T) {
	wt := startWatcher(t, []OriginConfig{{Name: "smb", RescanInterval: time.Hour}}, nil, nil)
	if wt.w.backend != nil {
		t.Fatal("inotify opened although no origin is watched")
	}
}

func TestWatcherRootGoneAndBack(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	writeFile(t, root, "a/1.mp3", nil)
	wt := startWatcher(t, []OriginConfig{{Name: "nas", Path: root, Watch: true}}, nil,
		func(w *Watcher) { w.pollEvery = 50 * time.Millisecond })
	wt.watching()
	nas, _ := wt.set.Get("nas")

	// Unmounted: the root goes away.
	away := filepath.Join(parent, "away")
	must(t, os.Rename(root, away))
	c, ok := wt.next(2 * time.Second)
	if !ok || !c.Rescan || c.Origin != "nas" {
		t.Fatalf("got %+v (ok %v), want a rescan of nas", c, ok)
	}
	wt.waitLog("origin root gone: watches dropped, checking for its return", time.Second)
	writeFile(t, away, "a/2.mp3", nil) // no longer the origin
	wt.quiet(300 * time.Millisecond)
	if nas.Online() {
		t.Fatal("origin online while its root is gone")
	}

	// Back, with a change made meanwhile.
	must(t, os.Rename(away, root))
	c, ok = wt.next(2 * time.Second)
	if !ok || !c.Rescan || c.Origin != "nas" {
		t.Fatalf("got %+v (ok %v), want a rescan of nas when it is back", c, ok)
	}
	if !nas.Online() {
		t.Fatal("the set's origin is not online after the watcher saw it back")
	}
	writeFile(t, root, "a/3.mp3", nil)
	wt.waitPaths(2*time.Second, "a/3.mp3")
}

func TestWatcherRootMissingAtStart(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	wt := startWatcher(t, []OriginConfig{{Name: "nas", Path: root, Watch: true}}, nil,
		func(w *Watcher) { w.pollEvery = 50 * time.Millisecond })
	wt.waitLog("origin root gone: watches dropped, checking for its return", 2*time.Second)
	wt.quiet(200 * time.Millisecond) // at start the consumer scans anyway
	writeFile(t, root, "a/1.mp3", nil)
	c, ok := wt.next(2 * time.Second)
	if !ok || !c.Rescan {
		t.Fatalf("got %+v (ok %v), want a rescan when the root appears", c, ok)
	}
	writeFile(t, root, "a/2.mp3", nil)
	wt.waitPaths(2*time.Second, "a/2.mp3")
}

func TestWatcherIgnoresChmodThatKeepsReadability(t *testing.T) {
	root := filepath.Join(t.TempDir(), "root")
	writeFile(t, root, "a/1.mp3", nil)
	wt := startWatcher(t, []OriginConfig{{Name: "m", Path: root, Watch: true}}, nil, nil)
	wt.watching()
	must(t, os.Chmod(filepath.Join(root, "a/1.mp3"), 0o600))
	must(t, os.Chmod(filepath.Join(root, "a"), 0o700))
	wt.quiet(400 * time.Millisecond)
}

// TestWatcherReportsReadabilityChanges needs permissions to bite: as root it
// re-runs itself as nobody.
func TestWatcherReportsReadabilityChanges(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestWatcherReportsReadabilityChanges")
		return
	}
	root := filepath.Join(t.TempDir(), "root")
	writeFile(t, root, "a/1.mp3", nil)
	writeFile(t, root, "d/e/2.mp3", nil)
	wt := startWatcher(t, []OriginConfig{{Name: "m", Path: root, Watch: true}}, nil, nil)
	wt.watching()
	abs := func(rel string) string { return filepath.Join(root, rel) }

	must(t, os.Chmod(abs("a/1.mp3"), 0o600)) // still ours to read
	wt.quiet(300 * time.Millisecond)
	must(t, os.Chmod(abs("a/1.mp3"), 0))
	wt.waitPaths(2*time.Second, "a/1.mp3")
	must(t, os.Chmod(abs("a/1.mp3"), 0o644))
	wt.waitPaths(2*time.Second, "a/1.mp3")

	must(t, os.Chmod(abs("d"), 0))
	wt.waitPaths(2*time.Second, "d")
	must(t, os.Chmod(abs("d"), 0o755))
	wt.waitPaths(2*time.Second, "d")
	writeFile(t, root, "d/e/3.mp3", nil) // still (or again) watched
	wt.waitPaths(2*time.Second, "d/e/3.mp3")
}

func TestCompact(t *testing.T) {
	set := map[string]struct{}{}
	for _, p := range []string{"b/x", "a", "a/b", "a/b/c.mp3", "ab", "ab.mp3", "c/d/e", "c/d"} {
		set[p] = struct{}{}
	}
	if got, want := compact(set), []string{"a", "ab", "ab.mp3", "b/x", "c/d"}; !slices.Equal(got, want) {
		t.Fatalf("compact = %v, want %v", got, want)
	}
}

func TestWatcherStopClosesChanges(t *testing.T) {
	wt := startWatcher(t, []OriginConfig{{Name: "m", Watch: true, RescanInterval: time.Millisecond}}, nil, nil)
	wt.watching()
	time.Sleep(20 * time.Millisecond) // the consumer is slow: the buffer holds rescans
	must(t, wt.w.Stop(context.Background()))
	for range wt.w.Changes() {
	}
}
