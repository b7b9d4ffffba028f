package e2e

import (
	"bytes"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
)

// A library on an old share holds Latin-1 names: bytes that are not UTF-8.
// Through a real mount and the cache, such a file and its directory are
// listed (as Windows-1252, suffixed where they look like a UTF-8 twin),
// read byte for byte through Origins/ and through its tag view, with its
// tags read; a new one shows through the watcher; and all of it is the same
// after a restart.
func TestRawNamesEndToEnd(t *testing.T) {
	const (
		latin1   = "Caf\xe9/\xe9t\xe9.flac" // Café/été.flac, written by a Latin-1 client
		utf8Twin = "Café/été.flac"          // the same name from a UTF-8 client
		added    = "Caf\xe9/hiv\xe8r.flac"  // Café/hivèr.flac, added while mounted
		album    = "Artists/Édith Piaf/Café (1950)/"
	)
	tags := func(title string, track int) audiogen.Tags {
		return audiogen.Tags{Title: title, Artist: "Édith Piaf", Album: "Café", Year: 1950, Track: track}
	}
	files := []audiogen.LibFile{
		{RelPath: latin1, Data: audiogen.FLAC(tags("Été", 1), audiogen.FLACOptions{Seed: 1, Seconds: 0.5}), Format: audiogen.FormatFLAC},
		{RelPath: utf8Twin, Data: audiogen.FLAC(tags("Été", 1), audiogen.FLACOptions{Seed: 2, Seconds: 0.5}), Format: audiogen.FormatFLAC},
	}
	d := startDaemon(t, writeLib(t, files))

	if got, want := walkFiles(t, d.Mountpoint, "Origins"), []string{
		"Origins/lib/Café (2)/été.flac",
		"Origins/lib/Café/été.flac",
	}; !slices.Equal(got, want) {
		t.Fatalf("Origins/ lists\n%s\nwant\n%s", lines(got), lines(want))
	}
	reads := map[string][]byte{ // mount path → the origin file's bytes
		"Origins/lib/Café (2)/été.flac": files[0].Data,
		"Origins/lib/Café/été.flac":     files[1].Data,
		album + "01 Été (2).flac":       files[0].Data,
		album + "01 Été.flac":           files[1].Data,
	}
	if got, want := walkFiles(t, d.Mountpoint, "Artists"), []string{album + "01 Été (2).flac", album + "01 Été.flac"}; !slices.Equal(got, want) {
		t.Fatalf("Artists/ lists\n%s\nwant\n%s (the tags of both files read)", lines(got), lines(want))
	}
	checkReads := func(when string) {
		t.Helper()
		for _, p := range slices.Sorted(maps.Keys(reads)) {
			for pass := range 2 { // fetched from the origin, then from the cache
				if got := readFile(t, d.Path(p)); !bytes.Equal(got, reads[p]) {
					t.Fatalf("%s: read %d of %s: %d bytes, not the origin file's %d", when, pass+1, p, len(got), len(reads[p]))
				}
			}
		}
	}
	checkReads("first start")
	for _, tr := range d.Index.Tracks() {
		if tr.RelPath == latin1 && (!tr.Tagged || tr.Title != "Été" || tr.Album != "Café") {
			t.Fatalf("%q: tagged %v (%v), title %q, album %q", latin1, tr.Tagged, tr.Untagged, tr.Title, tr.Album)
		}
	}

	writeTrack(t, filepath.Join(d.Lib, added), tags("Hivèr", 2))
	visible(t, d, album+"02 Hivèr.flac", true)
	data := readFile(t, filepath.Join(d.Lib, added))
	reads[album+"02 Hivèr.flac"] = data
	reads["Origins/lib/Café (2)/hivèr.flac"] = data
	checkReads("after the watcher's report")

	before := inodes(t, d.Mountpoint)
	d.Restart(t)
	if after := inodes(t, d.Mountpoint); !maps.Equal(after, before) {
		t.Fatalf("after a restart, paths and inode numbers\n%v\nwere\n%v", after, before)
	}
	checkReads("after a restart")
}
