package index_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
)

func TestRefresh(t *testing.T) {

	root, state := t.TempDir(), t.TempDir()
	writeLibrary(t, root, smallLibrary())
	f := &faults{}
	opt := envOpt{cfg: stateCfg(state), decorate: func(s origins.Set) origins.Set { return faultySet{s, f} }}
	e := start(t, map[string]string{"lib": root}, opt)
	e.waitScanned(t, 10*time.Second)
	walks := f.walks.Load()

	refresh := func(what string, paths []string, cond func(map[string]*index.Track) bool) {
		t.Helper()
		began := time.Now()
		e.ix.Refresh("lib", paths)
		waitFor(t, 2*time.Second, what, func() bool { return cond(e.byPath()) })
		t.Logf("%s: visible after %v", what, time.Since(began))
	}
	writeAt(t, root, "new/added.flac", flac(testTags{Title: "New"}), time.Now())
	refresh("added file", []string{"new/added.flac"}, func(m map[string]*index.Track) bool {
		return m["lib/new/added.flac"] != nil && m["lib/new/added.flac"].Title == "New"
	})
	writeAt(t, root, "pf/wall/01.flac", flac(testTags{Title: "Retagged"}), time.Now())
	refresh("re-tagged file", []string{"pf/wall/01.flac"}, func(m map[string]*index.Track) bool {
		return m["lib/pf/wall/01.flac"].Title == "Retagged"
	})
	if err := os.Remove(filepath.Join(root, "bjork/joga.flac")); err != nil {
		t.Fatal(err)
	}
	refresh("deleted file", []string{"bjork/joga.flac"}, func(m map[string]*index.Track) bool {
		return m["lib/bjork/joga.flac"] == nil
	})
	writeAt(t, root, "newdir/a.flac", flac(testTags{Title: "A"}), time.Now())
	writeAt(t, root, "newdir/sub/b.mp3", mp3(3, testTags{Title: "B"}), time.Now())
	refresh("added directory", []string{"newdir"}, func(m map[string]*index.Track) bool {
		return m["lib/newdir/a.flac"] != nil && m["lib/newdir/sub/b.mp3"] != nil && m["lib/newdir/sub/b.mp3"].Title == "B"
	})
	if err := os.RemoveAll(filepath.Join(root, "newdir")); err != nil {
		t.Fatal(err)
	}
	refresh("deleted directory", []string{"newdir"}, func(m map[string]*index.Track) bool {
		return m["lib/newdir/a.flac"] == nil && m["lib/newdir/sub/b.mp3"] == nil
	})

	if n := f.opened("pf/wall/02.mp3"); n != 1 {
		t.Errorf("an unchanged file was read %d times, want 1", n)
	}
	// A deleted directory needs no walk; an added one does.
	if f.walks.Load() != walks || f.dirWalks.Load() != 1 {
		t.Errorf("%d full walks and %d directory walks, want 0 and 1", f.walks.Load()-walks, f.dirWalks.Load())
	}
	want := summary(e.ix.Tracks())
	if len(want) != 5 {
		t.Fatalf("%d records at the end, want 5: %v", len(want), want)
	}
	e.stop()
	e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	if got := summary(e.ix.Tracks()); !slices.Equal(got, want) {
		t.Fatalf("refreshes not persisted:\n%v\nwant\n%v", got, want)
	}
}

// A refresh of deleted paths deletes nothing while the origin's root is
// missing or empty; when the origin is back, the next refresh rescans it and
// the deletion made meanwhile is applied.
func TestRefreshKeepsRecordsOfOfflineOrigin(t *testing.T) {
	parent, other := t.TempDir(), t.TempDir()
	root := filepath.Join(parent, "lib")
	writeLibrary(t, root, smallLibrary())
	e := start(t, map[string]string{"lib": root, "other": other}, envOpt{cfg: stateCfg(t.TempDir())})
	e.waitScanned(t, 10*time.Second)
	want := len(e.ix.Tracks())

	// refresh refreshes lib's paths, then waits until a refresh queued after
	// them (a new file in the other origin) is visible: requests are served
	// in order, so lib's have been handled.
	marks := 0
	refresh := func(paths ...string) {
		t.Helper()
		e.ix.Refresh("lib", paths)
		marks++
		mark := filepath.Join("marks", strings.Repeat("m", marks)+".txt")
		writeAt(t, other, mark, []byte("x"), time.Now())
		e.ix.Refresh("other", []string{mark})
		waitFor(t, 2*time.Second, "refresh served", func() bool { return e.byPath()["other/"+mark] != nil })
		want++
	}

	if err := os.Rename(root, root+".away"); err != nil {
		t.Fatal(err)
	}
	refresh("pf/wall/01.flac", "bjork")
	if n := len(e.ix.Tracks()); n != want || !slices.Equal(e.ix.Offline(), []string{"lib"}) {
		t.Fatalf("missing root: %d records (want %d), offline %v", n, want, e.ix.Offline())
	}

	if err := os.Mkdir(root, 0o755); err != nil { // an empty directory where the share was
		t.Fatal(err)
	}
	refresh("pf/wall/01.flac", "bjork")
	if n := len(e.ix.Tracks()); n != want || !slices.Equal(e.ix.Offline(), []string{"lib"}) {
		t.Fatalf("empty root: %d records (want %d), offline %v", n, want, e.ix.Offline())
	}
	if n := e.logs.FilterMessageSnippet("deleting nothing").FilterField(zap.String("origin", "lib")).Len(); n != 1 {
		t.Fatalf("%d offline warnings, want 1 (once)", n)
	}

	// Back, with a file deleted meanwhile.
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(root+".away", root); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "pf/wall/02.mp3")); err != nil {
		t.Fatal(err)
	}
	e.ix.Refresh("lib", []string{"bjork"})
	waitFor(t, 5*time.Second, "deletion made while offline applied", func() bool {
		return e.byPath()["lib/pf/wall/02.mp3"] == nil && len(e.ix.Offline()) == 0
	})
	if n := len(e.ix.Tracks()); n != want-1 {
		t.Fatalf("%d records, want %d", n, want-1)
	}
}

func TestOfflineRules(t *testing.T) {
	t.Run("empty root", func(t *testing.T) {
		root := t.TempDir()
		lib := smallLibrary()
		writeLibrary(t, root, lib)
		e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(t.TempDir())})
		e.waitScanned(t, 10*time.Second)
		entries, _ := os.ReadDir(root)
		for _, de := range entries {
			if err := os.RemoveAll(filepath.Join(root, de.Name())); err != nil {
				t.Fatal(err)
			}
		}
		e.rescan(t)
		e.rescan(t)
		if n := len(e.ix.Tracks()); n != len(lib) || !slices.Equal(e.ix.Offline(), []string{"lib"}) {
			t.Fatalf("emptied root: %d records (want %d), offline %v", n, len(lib), e.ix.Offline())
		}
		if n := e.logs.FilterMessageSnippet("deleting nothing").FilterLevelExact(zapcore.WarnLevel).Len(); n != 1 {
			t.Fatalf("%d offline warnings over two rescans, want 1", n)
		}
		delete(lib, "broken.mp3")
		writeLibrary(t, root, lib)
		e.rescan(t)
		if n := len(e.ix.Tracks()); n != len(lib) || len(e.ix.Offline()) != 0 {
			t.Fatalf("refilled root: %d records (want %d), offline %v", n, len(lib), e.ix.Offline())
		}
	})

	t.Run("no longer a mount point", func(t *testing.T) {
		root, state := t.TempDir(), t.TempDir()
		lib := smallLibrary()
		writeLibrary(t, root, lib)
		var mounted atomic.Bool
		mounted.Store(true)
		opt := envOpt{cfg: stateCfg(state), mounted: func(string) (bool, error) { return mounted.Load(), nil }}
		e := start(t, map[string]string{"lib": root}, opt)
		e.waitScanned(t, 10*time.Second)

		mounted.Store(false) // unmounted: what is left is the directory under the mount
		if err := os.Remove(filepath.Join(root, "broken.mp3")); err != nil {
			t.Fatal(err)
		}
		e.rescan(t)
		if n := len(e.ix.Tracks()); n != len(lib) || !slices.Equal(e.ix.Offline(), []string{"lib"}) {
			t.Fatalf("unmounted: %d records (want %d), offline %v", n, len(lib), e.ix.Offline())
		}
		// Remembered across a restart.
		e.stop()
		e = start(t, map[string]string{"lib": root}, opt)
		e.ix.StartScanning()
		e.waitScanned(t, 10*time.Second)
		if n := len(e.ix.Tracks()); n != len(lib) || !slices.Equal(e.ix.Offline(), []string{"lib"}) {
			t.Fatalf("unmounted, after a restart: %d records (want %d), offline %v", n, len(lib), e.ix.Offline())
		}
		mounted.Store(true)
		e.rescan(t)
		if n := len(e.ix.Tracks()); n != len(lib)-1 || len(e.ix.Offline()) != 0 {
			t.Fatalf("mounted again: %d records (want %d), offline %v", n, len(lib)-1, e.ix.Offline())
		}
	})

	t.Run("hung mount check", func(t *testing.T) {
		root := t.TempDir()
		writeLibrary(t, root, smallLibrary())
		release := make(chan struct{})
		defer close(release)
		cfg := index.Config{ReadTimeout: 100 * time.Millisecond}
		e := start(t, map[string]string{"lib": root}, envOpt{cfg: &cfg,
			mounted: func(string) (bool, error) { <-release; return true, nil }})
		e.waitScanned(t, 5*time.Second)
		if n := len(e.ix.Tracks()); n != 5 {
			t.Fatalf("%d records", n)
		}
	})
}

func TestInterning(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	writeLibrary(t, root, smallLibrary())
	check := func(e *env, when string) {
		t.Helper()
		m := e.byPath()
		a, b := m["lib/pf/wall/01.flac"], m["lib/pf/wall/02.mp3"]
		if unsafe.SliceData(a.Artists) != unsafe.SliceData(b.Artists) || unsafe.SliceData(a.Genres) != unsafe.SliceData(b.Genres) {
			t.Errorf("%s: lists %q/%q and %q/%q are not shared", when, a.Artists, a.Genres, b.Artists, b.Genres)
		}
		for _, f := range []struct{ name, x, y string }{
			{"Artist", a.Artists[0], b.Artists[0]}, {"AlbumArtist", a.AlbumArtists[0], b.AlbumArtists[0]},
			{"Album", a.Album, b.Album}, {"Genre", a.Genres[0], b.Genres[0]},
		} {
			if f.x != f.y || unsafe.StringData(f.x) != unsafe.StringData(f.y) {
				t.Errorf("%s: %s %q and %q do not share their bytes", when, f.name, f.x, f.y)
			}
		}
	}
	e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	e.waitScanned(t, 10*time.Second)
	check(e, "after a scan")
	e.stop()
	e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	check(e, "after loading")
}

// A refresh of a directory whose walk skipped unreadable subdirectories
// removes what it did not see, except under them.
func TestRefreshSkippedDirs(t *testing.T) {

	root := t.TempDir()
	writeLibrary(t, root, map[string][]byte{
		"d/a.flac": flac(wallTags), "d/sub/b.flac": flac(wallTags), "d/sub2/c.flac": flac(wallTags),
	})
	f := &faults{}
	e := start(t, map[string]string{"lib": root}, envOpt{decorate: func(s origins.Set) origins.Set { return faultySet{s, f} }})
	e.waitScanned(t, 5*time.Second)
	for _, rel := range []string{"d/a.flac", "d/sub/b.flac", "d/sub2/c.flac"} {
		if err := os.Remove(filepath.Join(root, rel)); err != nil {
			t.Fatal(err)
		}
	}
	f.skipDirs = []string{"d/sub"}
	e.ix.Refresh("lib", []string{"d"})
	waitFor(t, 2*time.Second, "unseen files outside the skipped directory removed", func() bool {
		m := e.byPath()
		return m["lib/d/a.flac"] == nil && m["lib/d/sub2/c.flac"] == nil
	})
	if e.byPath()["lib/d/sub/b.flac"] == nil {
		t.Fatal("a record under the skipped directory was removed")
	}
}

// Refreshes are applied while a scan runs: a change on an origin shows at
// once whether the scan has walked it already, walks it later, or is
// walking another origin, and it survives the end of the scan and a restart.
func TestRefreshDuringScan(t *testing.T) {
	a, b, c, state := t.TempDir(), t.TempDir(), t.TempDir(), t.TempDir()
	writeLibrary(t, a, map[string][]byte{"x.flac": flac(wallTags), "y.flac": flac(wallTags)})
	files := map[string][]byte{}
	for i := range 100 {
		files[fmt.Sprintf("d%02d/%03d.flac", i%10, i)] = flac(wallTags)
	}
	writeLibrary(t, b, files)
	writeLibrary(t, c, map[string][]byte{"z.flac": flac(wallTags)})
	f := &faults{delay: 50 * time.Millisecond} // a slow NAS: 50 ms per open
	cfg := index.Config{StateDir: state, Workers: 2}
	e := start(t, map[string]string{"a": a, "b": b, "c": c}, envOpt{cfg: &cfg,
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} }})
	waitFor(t, 5*time.Second, "a scanned", func() bool { m := e.byPath(); return m["a/x.flac"] != nil && m["a/y.flac"] != nil })

	check := func(what, origin, rel string, want bool) {
		t.Helper()
		if e.ix.Stats().Scanning == false {
			t.Fatalf("%s: the scan is over already", what)
		}
		began := time.Now()
		e.ix.Refresh(origin, []string{rel})
		waitFor(t, 5*time.Second, what, func() bool { return (e.byPath()[origin+"/"+rel] != nil) == want })
		if d := time.Since(began); d > time.Second {
			t.Errorf("%s: visible after %v, want at once", what, d)
		} else {
			t.Logf("%s: visible after %v", what, d)
		}
	}
	writeAt(t, a, "new.flac", flac(wallTags), time.Now())
	check("file added on an origin already walked", "a", "new.flac", true)
	if err := os.Remove(filepath.Join(a, "x.flac")); err != nil {
		t.Fatal(err)
	}
	check("file deleted on an origin already walked", "a", "x.flac", false)
	writeAt(t, c, "new.flac", flac(wallTags), time.Now())
	check("file added on an origin not walked yet", "c", "new.flac", true)
	writeAt(t, b, "d00/new.flac", flac(wallTags), time.Now())
	check("file added on the origin being walked", "b", "d00/new.flac", true)

	e.waitScanned(t, 20*time.Second)
	want := summary(e.ix.Tracks())
	got := e.byPath()
	if len(got) != 2+101+2 || got["a/x.flac"] != nil || got["a/new.flac"] == nil || got["c/new.flac"] == nil || got["b/d00/new.flac"] == nil {
		t.Fatalf("after the scan: %d records, %v", len(got), want)
	}
	e.stop()
	e = start(t, map[string]string{"a": a, "b": b, "c": c}, envOpt{cfg: stateCfg(state)})
	if got := summary(e.ix.Tracks()); !slices.Equal(got, want) {
		t.Fatalf("after a restart:\n%v\nwant\n%v", got, want)
	}
}

// A refresh whose stat hangs (a NAS that stopped answering) gives up on the
// origin after one read timeout, keeping its records, and does not hold up
// the requests behind it.
func TestRefreshHungStat(t *testing.T) {
	root, other := t.TempDir(), t.TempDir()
	writeLibrary(t, root, map[string][]byte{"h1.flac": flac(wallTags), "h2.flac": flac(wallTags), "h3.flac": flac(wallTags)})
	f := &faults{hangStat: map[string]bool{"h1.flac": true, "h2.flac": true, "h3.flac": true}, release: make(chan struct{})}
	defer close(f.release)
	cfg := index.Config{ReadTimeout: 200 * time.Millisecond}
	e := start(t, map[string]string{"lib": root, "other": other}, envOpt{cfg: &cfg,
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} }})
	e.waitScanned(t, 5*time.Second)

	began := time.Now()
	e.ix.Refresh("lib", []string{"h1.flac", "h2.flac", "h3.flac"})
	writeAt(t, other, "mark.txt", []byte("x"), time.Now())
	e.ix.Refresh("other", []string{"mark.txt"})
	waitFor(t, 3*time.Second, "the refresh behind served", func() bool { return e.byPath()["other/mark.txt"] != nil })
	if d := time.Since(began); d > time.Second {
		t.Errorf("served after %v with a 200ms read timeout", d)
	}
	if n := f.hung.Load(); n != 1 {
		t.Errorf("%d stats of the hung origin, want 1 (offline after the first timeout)", n)
	}
	if n := len(e.byPath()); n != 4 {
		t.Fatalf("%d records, want the 3 of the hung origin kept and the mark", n)
	}
}

// Stop does not wait for a refresh blocked in an origin stat.
func TestStopDuringHungRefresh(t *testing.T) {
	root := t.TempDir()
	writeLibrary(t, root, map[string][]byte{"h.flac": flac(wallTags)})
	f := &faults{hangStat: map[string]bool{"h.flac": true}, release: make(chan struct{})}
	defer close(f.release)
	cfg := index.Config{ReadTimeout: time.Minute}
	e := start(t, map[string]string{"lib": root}, envOpt{cfg: &cfg,
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} }})
	e.waitScanned(t, 5*time.Second)
	e.ix.Refresh("lib", []string{"h.flac"})
	waitFor(t, 2*time.Second, "stat blocked", func() bool { return f.hung.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := e.ix.Stop(ctx); err != nil {
		t.Fatalf("Stop with a refresh blocked in a stat: %v", err)
	}
}
