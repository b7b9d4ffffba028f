package index_test

import (
	"strings"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/index"
)

// TestScanStandardLibrary scans the shared generated library (real FLAC and
// MP3 files with every tag edge case) and its malformed corpus.
func TestScanStandardLibrary(t *testing.T) {
	root := t.TempDir()
	lib := append(audiogen.StandardLibrary(), audiogen.MalformedLibrary()...)
	if err := audiogen.WriteLibrary(root, lib); err != nil {
		t.Fatal(err)
	}
	e := start(t, map[string]string{"lib": root}, envOpt{})
	e.waitScanned(t, 20*time.Second)

	got := e.byPath()
	if len(got) != len(lib) {
		t.Errorf("indexed %d files, want %d", len(got), len(lib))
	}
	for _, f := range lib {
		tr := got["lib/"+f.RelPath]
		if tr == nil {
			t.Errorf("%s: not indexed", f.RelPath)
			continue
		}
		if tr.Audio != index.IsAudio(f.RelPath) {
			t.Errorf("%s: Audio = %v", f.RelPath, tr.Audio)
		}
		if !f.Audio() || f.Tags == (audiogen.Tags{}) {
			continue
		}
		want := f.Tags
		if !tr.Tagged {
			t.Errorf("%s (%s): not tagged", f.RelPath, f.Format)
			continue
		}
		gotTags := audiogen.Tags{
			Title: tr.Title, Artist: strings.Join(tr.Artists, "; "), AlbumArtist: strings.Join(tr.AlbumArtists, "; "),
			Album: tr.Album, Genre: strings.Join(tr.Genres, "; "),
			Year: tr.Year, Track: tr.Track, Disc: tr.Disc, DiscTotal: tr.DiscTotal,
		}
		want.TrackTotal = 0 // not kept in the index
		for _, s := range []*string{&want.Title, &want.Artist, &want.AlbumArtist, &want.Album, &want.Genre} {
			*s = strings.TrimSpace(*s)
		}
		if gotTags != want {
			t.Errorf("%s (%s):\n got %+v\nwant %+v", f.RelPath, f.Format, gotTags, want)
		}
	}
	if v := promtest.Value(t, e.reg, "musicfs_scan_panics_total"); v != 0 {
		t.Errorf("%v panics", v)
	}
}
