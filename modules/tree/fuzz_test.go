package tree

import (
	"strings"
	"testing"

	"github.com/musicfs/musicfs/modules/index"
)

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a/b", "\x00", " .. ", "\xff", strings.Repeat("日", 100) + ".flac"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, isFile bool) {
		got := sanitize(s, isFile)
		checkName(t, got)
		if again := sanitize(got, isFile); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, got, again)
		}
	})
}

func FuzzRender(f *testing.F) {
	f.Add("Moment's Notice", "John Coltrane", "", "Blue Train", "Jazz", "bt/02.flac", 1957, 2, 1, 1)
	f.Add("..", ".", "/", "../..", "\x00", "a/../b.mp3", 0, 0, 0, 0)
	f.Add(strings.Repeat("x", 300), " ", "\t", "\xff\xfe", "({", "..", -1, -5, 3, 2)
	views := DefaultViews()
	tpls := make([]*template, len(views))
	for i, v := range views {
		tpls[i], _ = parseTemplate(v.Template)
	}
	f.Fuzz(func(t *testing.T, title, artist, albumArtist, album, genre, rel string, year, track, disc, discTotal int) {
		tr := &index.Track{
			Origin: "o", RelPath: rel, Audio: true, Tagged: true,
			Title: title, Artists: []string{artist}, AlbumArtists: []string{albumArtist}, Album: album, Genres: []string{genre},
			Year: year, Track: track, Disc: disc, DiscTotal: discTotal,
		}
		s, err := Build([]*index.Track{tr}, Config{Views: views})
		if err != nil {
			t.Fatal(err)
		}
		for i, tpl := range tpls {
			els := tpl.renderPath(tr)
			if len(els) != len(tpl.segs) {
				t.Fatalf("%s: %d path elements %q, template has %d", views[i].Name, len(els), els, len(tpl.segs))
			}
			for _, e := range els {
				checkName(t, e)
			}
			// The track sits exactly where its elements say, and nowhere else.
			n := s.LookupPath(views[i].Name + "/" + strings.Join(els, "/"))
			if n == nil || n.Dir || n.RelPath() != rel {
				t.Fatalf("%s/%q: got %+v", views[i].Name, els, n)
			}
		}
		files := 0
		for i := 1; i < s.Len(); i++ {
			n := s.nodes[i]
			checkName(t, n.Name)
			if !n.Dir {
				files++
			}
		}
		if files != len(views)+1 {
			t.Fatalf("%d files in the tree, want %d", files, len(views)+1)
		}
	})
}
