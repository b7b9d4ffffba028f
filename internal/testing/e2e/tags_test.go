package e2e

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/musicfs/musicfs/internal/testing/tagcorpus"
)

// TestTagCorpusPaths mounts the tag corpus (every format and tag edge case
// of issue 7, made by ffmpeg, mutagen and Go) and checks that each file sits
// at exactly the paths the default views give for the tags mpd, beets and
// mutagen show for it: under each of several artists and genres, a
// compilation as one album under Various Artists; that nothing else is in
// the tag views; and that no name holds a control or invisible character.
func TestTagCorpusPaths(t *testing.T) {
	lib := t.TempDir()
	cases := tagcorpus.Build(t, lib)
	d := startDaemon(t, lib)

	present := map[string]bool{}
	for _, view := range []string{"Artists", "Albums", "Genres", "Years"} {
		for _, p := range walkFiles(t, d.Mountpoint, view) {
			present[p] = true
		}
	}
	expected := map[string]string{} // path -> case
	exact := 0
	for _, c := range cases {
		missing := 0
		for _, p := range corpusPaths(c) {
			if other, dup := expected[p]; dup {
				t.Errorf("cases %s and %s expect the same path %s: fix the corpus", other, c.Name, p)
			}
			expected[p] = c.Name
			if !present[p] {
				missing++
				t.Errorf("%s: %s not in the mount", c.Name, p)
			}
		}
		if missing == 0 {
			exact++
		}
	}
	for p := range present {
		if _, ok := expected[p]; !ok {
			t.Errorf("%s is in the mount but at no expected path", p)
		}
	}
	for _, p := range walkFiles(t, d.Mountpoint, ".") {
		for _, r := range p {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != 0x200c && r != 0x200d {
				t.Errorf("%q holds the invisible character %U", p, r)
			}
		}
	}
	t.Logf("tag corpus: %d/%d files at their exact paths in every default view", exact, len(cases))
}

// corpusPaths renders the default views for a case's Want, by hand, as a
// listener expects them (see tree.DefaultViews).
func corpusPaths(c tagcorpus.Case) []string {
	w := c.Want
	name := func(s string) string { return strings.ReplaceAll(s, "/", "／") }
	or := func(s, fallback string) string {
		if s == "" {
			return fallback
		}
		return name(s)
	}
	list := func(vs []string, fallback string) []string {
		if len(vs) == 0 {
			return []string{fallback}
		}
		out := make([]string, len(vs))
		for i, v := range vs {
			out[i] = name(v)
		}
		return out
	}
	base := path.Base(c.RelPath)
	ext := path.Ext(base)
	artists := list(w.Artists, "Unknown Artist")
	albumArtists := list(w.AlbumArtists, "")
	switch {
	case w.Compilation || slices.Contains(w.AlbumArtists, "Various Artists"):
		albumArtists = []string{"Various Artists"}
	case len(w.AlbumArtists) == 0:
		albumArtists = artists
	}
	genres := list(w.Genres, "Unknown Genre")
	album := or(w.Album, "Unknown Album")
	file := or(w.Title, strings.TrimSuffix(base, ext)) + strings.ToLower(ext)
	switch {
	case w.Track > 0 && (w.Disc > 1 || w.DiscTotal > 1):
		file = fmt.Sprintf("%d-%02d %s", w.Disc, w.Track, file)
	case w.Track > 0:
		file = fmt.Sprintf("%02d %s", w.Track, file)
	case w.Disc > 1 || w.DiscTotal > 1:
		file = fmt.Sprintf("%d-%s", w.Disc, file)
	}
	dated, year := album, "Unknown Year"
	if w.Year > 0 {
		dated, year = fmt.Sprintf("%s (%d)", album, w.Year), fmt.Sprint(w.Year)
	}
	joined := strings.Join(albumArtists, ", ")
	var out []string
	for _, a := range albumArtists {
		out = append(out, path.Join("Artists", a, dated, file))
		for _, g := range genres {
			out = append(out, path.Join("Genres", g, a, album, file))
		}
	}
	return append(out,
		path.Join("Albums", dated+" - "+joined, file),
		path.Join("Years", year, joined+" - "+album, file))
}
