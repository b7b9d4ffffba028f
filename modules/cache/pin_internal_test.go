package cache

import (
	"slices"
	"testing"
	"time"

	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/tree"
)

func TestResolvePins(t *testing.T) {
	track := func(rel, artist, album string, n int, title string) *index.Track {
		return &index.Track{Origin: "o", RelPath: rel, Size: 100, ModTime: time.Unix(1e9, 0), Audio: true, Tagged: true,
			Artists: []string{artist}, Album: album, Title: title, Track: n, Year: 1966}
	}
	tracks := []*index.Track{
		track("nina/1.flac", "Nina Simone", "Pastel Blues", 1, "Be My Husband"),
		track("nina/2.flac", "Nina Simone", "Pastel Blues", 2, "Nobody"),
		track("björk/1.flac", "Björk", "Homogenic", 1, "Jóga"),
		track("other/1.mp3", "Other", "Album", 1, "One"),
		{Origin: "o", RelPath: "other/cover.jpg", Size: 5, ModTime: time.Unix(1e9, 0)}, // not audio: only under Origins/
	}
	snap, err := tree.Build(tracks, tree.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	nina := []string{"nina/1.flac", "nina/2.flac"}
	tests := []struct {
		name     string
		patterns []string
		want     []string
	}{
		{"artist glob", []string{"Artists/Nina Simone/**"}, nina},
		{"directory path", []string{"Artists/Nina Simone"}, nina},
		{"file path", []string{"Artists/Nina Simone/Pastel Blues (1966)/02 Nobody.flac"}, []string{"nina/2.flac"}},
		{"unicode", []string{"Artists/Björk/**"}, []string{"björk/1.flac"}},
		{"unicode wildcard", []string{"Artists/Bj?rk/*/01 J?ga.flac"}, []string{"björk/1.flac"}},
		{"leading doublestar", []string{"**/Homogenic (1966)/**"}, []string{"björk/1.flac"}},
		{"segment wildcards", []string{"Artists/*/Pastel*/02*"}, []string{"nina/2.flac"}},
		// Album directories show the cover from the origin folder: pinned too.
		{"alternatives", []string{"Artists/{Björk,Other}/**"}, []string{"björk/1.flac", "other/1.mp3", "other/cover.jpg"}},
		{"origins view", []string{"Origins/o/other/**"}, []string{"other/1.mp3", "other/cover.jpg"}},
		{"slashes trimmed", []string{"/Artists/Björk/"}, []string{"björk/1.flac"}},
		{"overlapping patterns", []string{"Artists/Nina Simone/**", "Albums/Pastel Blues*/**"}, nina},
		{"everything", []string{"**"}, []string{"björk/1.flac", "nina/1.flac", "nina/2.flac", "other/1.mp3", "other/cover.jpg"}},
		{"no match", []string{"Artists/Nobody/**"}, nil},
		{"doublestar is not a single segment", []string{"Artists/*/01*"}, nil},
		{"none", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pins, err := compilePins(tt.patterns, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range pins.resolve(snap) {
				if k.Size != 100 && k.RelPath != "other/cover.jpg" || !k.ModTime.Equal(time.Unix(1e9, 0)) || k.Origin != "o" {
					t.Errorf("key %+v lacks the node's identity", k)
				}
				got = append(got, k.RelPath)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("pinned %q, want %q", got, tt.want)
			}
		})
	}
}

// Tracks of an origin served uncached (cache: false) are never pinned: they
// are never read through the cache.
func TestResolvePinsSkipsUncachedOrigins(t *testing.T) {
	tracks := []*index.Track{
		{Origin: "nas", RelPath: "a.flac", Size: 1, Audio: true, Tagged: true, Artists: []string{"A"}, Album: "X", Title: "a"},
		{Origin: "local", RelPath: "b.flac", Size: 1, Audio: true, Tagged: true, Artists: []string{"A"}, Album: "X", Title: "b"},
	}
	snap, err := tree.Build(tracks, tree.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	pins, err := compilePins([]string{"Artists/**"}, []string{"local"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range pins.resolve(snap) {
		got = append(got, k.Origin+":"+k.RelPath)
	}
	if !slices.Equal(got, []string{"nas:a.flac"}) {
		t.Fatalf("pinned %q, want only the cached origin's track", got)
	}
}
