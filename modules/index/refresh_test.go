package index_test

import (
	"context"
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

// dirWalkSet adds WalkDir (origins.DirWalker) to a faultySet's origins.
type dirWalkSet struct {
	faultySet
	n *atomic.Int64
}

func (s dirWalkSet) List() []origins.Origin {
	var out []origins.Origin
	for _, o := range s.faultySet.List() {
		out = append(out, dirWalkOrigin{o.(faultyOrigin), s.n})
	}
	return out
}

func (s dirWalkSet) Get(name string) (origins.Origin, bool) {
	o, ok := s.faultySet.Get(name)
	if !ok {
		return nil, false
	}
	return dirWalkOrigin{o.(faultyOrigin), s.n}, true
}

type dirWalkOrigin struct {
	faultyOrigin
	n *atomic.Int64
}

func (o dirWalkOrigin) WalkDir(ctx context.Context, dir string, fn func(origins.Entry) error) error {
	o.n.Add(1)
	return o.faultyOrigin.Origin.Walk(ctx, func(e origins.Entry) error {
		if strings.HasPrefix(e.RelPath, dir+"/") {
			return fn(e)
		}
		return nil
	})
}

func TestRefresh(t *testing.T) {
	for _, dirWalker := range []bool{true, false} {
		name := map[bool]string{true: "DirWalker", false: "full walk fallback"}[dirWalker]
		t.Run(name, func(t *testing.T) {
			root, state := t.TempDir(), t.TempDir()
			writeLibrary(t, root, smallLibrary())
			f, dirWalks := &faults{}, new(atomic.Int64)
			opt := envOpt{cfg: stateCfg(state), decorate: func(s origins.Set) origins.Set {
				if dirWalker {
					return dirWalkSet{faultySet{s, f}, dirWalks}
				}
				return faultySet{s, f}
			}}
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
			if dirWalker && (f.walks.Load() != walks || dirWalks.Load() != 1) {
				t.Errorf("%d full walks and %d directory walks, want 0 and 1", f.walks.Load()-walks, dirWalks.Load())
			}
			if !dirWalker && f.walks.Load() != walks+1 {
				t.Errorf("%d full walks, want 1 (the fallback for the added directory)", f.walks.Load()-walks)
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
		})
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
		for _, f := range []struct{ name, x, y string }{
			{"Artist", a.Artist, b.Artist}, {"AlbumArtist", a.AlbumArtist, b.AlbumArtist},
			{"Album", a.Album, b.Album}, {"Genre", a.Genre, b.Genre},
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
