package index_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
)

// A file whose name is not UTF-8 (Latin-1, from an old share) is indexed
// under its raw bytes with its tags read, by a scan and by a refresh (what
// the watcher asks for), and keeps that record across a restart.
func TestRawNamesIndexedWithTags(t *testing.T) {
	const (
		scanned   = "Caf\xe9/\xe9t\xe9.flac"    // Café/été.flac in Latin-1
		refreshed = "Caf\xe9/hiv\xe8r.flac"     // Café/hivèr.flac, added later
		utf8Twin  = "Café/été.flac"             // the same name in UTF-8: another file
		newDir    = "Noël\xa0\xe0/\xff\xfe.mp3" // a directory refreshed whole
	)
	root, state := t.TempDir(), t.TempDir()
	tags := func(title string) audiogen.Tags {
		return audiogen.Tags{Title: title, Artist: "Édith Piaf", Album: "Café", Year: 1950, Track: 1}
	}
	mtime := audiogen.ModTime()
	writeAt(t, root, scanned, audiogen.FLAC(tags("Été"), audiogen.FLACOptions{Seed: 1, Seconds: 0.2}), mtime)
	writeAt(t, root, utf8Twin, audiogen.FLAC(tags("Twin"), audiogen.FLACOptions{Seed: 2, Seconds: 0.2}), mtime)

	e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	e.waitScanned(t, 10*time.Second)
	checkTitle := func(rel, title string) {
		t.Helper()
		tr := e.byPath()["lib/"+rel]
		switch {
		case tr == nil:
			t.Fatalf("%q not indexed; have %q", rel, slices.Sorted(maps.Keys(e.byPath())))
		case tr.RelPath != rel:
			t.Fatalf("%q indexed as %q", rel, tr.RelPath)
		case !tr.Audio || !tr.Tagged || tr.Title != title || tr.Album != "Café" || tr.Year != 1950:
			t.Fatalf("%q: audio %v, tagged %v (%v), title %q, album %q, year %d; want tags read, title %q",
				rel, tr.Audio, tr.Tagged, tr.Untagged, tr.Title, tr.Album, tr.Year, title)
		}
	}
	checkTitle(scanned, "Été")
	checkTitle(utf8Twin, "Twin")

	writeAt(t, root, refreshed, audiogen.FLAC(tags("Hivèr"), audiogen.FLACOptions{Seed: 3, Seconds: 0.2}), time.Now())
	e.ix.Refresh("lib", []string{refreshed})
	waitFor(t, 5*time.Second, "refreshed raw-named file indexed", func() bool {
		tr := e.byPath()["lib/"+refreshed]
		return tr != nil && tr.Tagged
	})
	checkTitle(refreshed, "Hivèr")

	writeAt(t, root, newDir, mp3(3, testTags{Title: "Dir"}), time.Now())
	e.ix.Refresh("lib", []string{filepath.Dir(newDir)})
	waitFor(t, 5*time.Second, "file in a refreshed raw-named directory indexed", func() bool {
		tr := e.byPath()["lib/"+newDir]
		return tr != nil && tr.Tagged && tr.Title == "Dir"
	})

	if err := os.Remove(filepath.Join(root, scanned)); err != nil {
		t.Fatal(err)
	}
	e.ix.Refresh("lib", []string{scanned})
	waitFor(t, 5*time.Second, "deleted raw-named file dropped", func() bool {
		return e.byPath()["lib/"+scanned] == nil
	})

	want := summary(e.ix.Tracks())
	e.stop()
	e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	if got := summary(e.ix.Tracks()); !slices.Equal(got, want) {
		t.Fatalf("raw-named records not persisted:\n%q\nwant\n%q", got, want)
	}
	e.ix.StartScanning() // with a persisted index, the scan waits for this
	e.waitScanned(t, 10*time.Second)
	if got := summary(e.ix.Tracks()); !slices.Equal(got, want) {
		t.Fatalf("records after the rescan of a restart:\n%q\nwant\n%q", got, want)
	}
}
