package tree

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/musicfs/musicfs/modules/index"
)

// files lists the paths of the file entries under prefix.
func files(s *Snapshot, prefix string) []string {
	var out []string
	for _, p := range walk(s) {
		if strings.HasPrefix(p, prefix) && !strings.HasSuffix(p, "/") {
			out = append(out, p)
		}
	}
	return out
}

func TestSeveralArtistsAndGenres(t *testing.T) {
	duet := song("o", "duet.flac", "", "Duets", "Together", 2001, 1)
	duet.Artists = []string{"Ella Fitzgerald", "Louis Armstrong"}
	duet.Genres = []string{"Jazz", "Vocal"}
	acdc := song("o", "acdc.flac", "AC/DC", "Back in Black", "Hells Bells", 1980, 1)
	sg := song("o", "sg.flac", "Simon & Garfunkel", "Bookends", "America", 1968, 1)
	s := mustBuild(t, []*index.Track{duet, acdc, sg}, append(DefaultViews(),
		View{Name: "Names", Template: "{artist} - {title}.{ext}"}))
	want := []string{
		"Albums/Back in Black (1980) - AC／DC/01 Hells Bells.flac",
		"Albums/Bookends (1968) - Simon & Garfunkel/01 America.flac",
		"Albums/Duets (2001) - Ella Fitzgerald, Louis Armstrong/01 Together.flac",
		"Artists/AC／DC/Back in Black (1980)/01 Hells Bells.flac",
		"Artists/Ella Fitzgerald/Duets (2001)/01 Together.flac",
		"Artists/Louis Armstrong/Duets (2001)/01 Together.flac",
		"Artists/Simon & Garfunkel/Bookends (1968)/01 America.flac",
		"Genres/Jazz/AC／DC/Back in Black/01 Hells Bells.flac",
		"Genres/Jazz/Ella Fitzgerald/Duets/01 Together.flac",
		"Genres/Jazz/Louis Armstrong/Duets/01 Together.flac",
		"Genres/Jazz/Simon & Garfunkel/Bookends/01 America.flac",
		"Genres/Vocal/Ella Fitzgerald/Duets/01 Together.flac",
		"Genres/Vocal/Louis Armstrong/Duets/01 Together.flac",
		"Names/AC／DC - Hells Bells.flac",
		"Names/Ella Fitzgerald, Louis Armstrong - Together.flac",
		"Names/Simon & Garfunkel - America.flac",
		"Years/1968/Simon & Garfunkel - Bookends/01 America.flac",
		"Years/1980/AC／DC - Back in Black/01 Hells Bells.flac",
		"Years/2001/Ella Fitzgerald, Louis Armstrong - Duets/01 Together.flac",
	}
	var got []string
	for _, p := range walk(s) {
		if !strings.HasSuffix(p, "/") && !strings.HasPrefix(p, "Origins/") {
			got = append(got, p)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Each listing is one inode per path, and the same file behind them.
	a, b := mustFind(t, s, want[4]), mustFind(t, s, want[5])
	if a.Ino == b.Ino || a.Track() != b.Track() {
		t.Fatalf("entries of one track under two artists: inos %d %d, tracks %p %p", a.Ino, b.Ino, a.Track(), b.Track())
	}
}

func TestAlbumArtistsGroupWhenSet(t *testing.T) {
	tr := song("o", "a.flac", "Guest", "Split", "T", 0, 1)
	tr.AlbumArtists = []string{"Band One", "Band Two"}
	s := mustBuild(t, []*index.Track{tr}, DefaultViews()[:1])
	if got := files(s, "Artists/"); !slices.Equal(got, []string{"Artists/Band One/Split/01 T.flac", "Artists/Band Two/Split/01 T.flac"}) {
		t.Fatalf("got %q", got)
	}
}

func TestCompilationIsOneAlbum(t *testing.T) {
	var tracks []*index.Track
	for i, artist := range []string{"Aretha Franklin", "Otis Redding", "Sam & Dave"} {
		tr := song("o", fmt.Sprintf("hits/%d.flac", i+1), artist, "Soul Hits", fmt.Sprintf("Song %d", i+1), 1967, i+1)
		tr.Compilation = i != 1 // one track lacks the flag but has the album artist
		if i == 1 {
			tr.AlbumArtists = []string{"VA"}
		}
		tracks = append(tracks, tr)
	}
	for _, tc := range []struct{ name, various string }{{"default name", ""}, {"configured", "Compilations"}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Build(tracks, Config{Views: DefaultViews(), Tags: Tags{VariousArtists: tc.various}})
			if err != nil {
				t.Fatal(err)
			}
			name := cmpOr(tc.various, "Various Artists")
			got := files(s, "Artists/")
			want := []string{
				"Artists/" + name + "/Soul Hits (1967)/01 Song 1.flac",
				"Artists/" + name + "/Soul Hits (1967)/02 Song 2.flac",
				"Artists/" + name + "/Soul Hits (1967)/03 Song 3.flac",
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if n := len(s.Children(mustFind(t, s, "Albums"))); n != 1 {
				t.Fatalf("%d album directories, want 1", n)
			}
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestSeparator(t *testing.T) {
	tr := song("o", "a.flac", "", "Al", "T", 0, 1)
	tr.Artists = []string{"A", "B"}
	s, err := Build([]*index.Track{tr}, Config{Views: []View{{Name: "V", Template: "{artist}/{title}"}}, Tags: Tags{Separator: " & "}})
	if err != nil {
		t.Fatal(err)
	}
	// {artist} alone in a directory level groups: one entry per artist.
	if got := files(s, "V/"); !slices.Equal(got, []string{"V/A/T", "V/B/T"}) {
		t.Fatalf("got %q", got)
	}
	s, _ = Build([]*index.Track{tr}, Config{Views: []View{{Name: "V", Template: "by {artist}/{title}"}}, Tags: Tags{Separator: " & "}})
	if got := files(s, "V/"); !slices.Equal(got, []string{"V/by A & B/T"}) {
		t.Fatalf("got %q", got)
	}
}

func TestPlacementsBounded(t *testing.T) {
	tr := song("o", "a.flac", "", "Al", "T", 0, 1)
	for i := range 32 {
		tr.Artists = append(tr.Artists, fmt.Sprintf("Artist %02d", i))
		tr.Genres = append(tr.Genres, fmt.Sprintf("Genre %02d", i))
	}
	s := mustBuild(t, []*index.Track{tr}, DefaultViews())
	n := len(files(s, "Genres/"))
	if n > maxPlacements || n < 32 {
		t.Fatalf("%d entries in Genres/, want 32–%d", n, maxPlacements)
	}
	for _, p := range files(s, "") {
		checkName(t, p[strings.LastIndexByte(p, '/')+1:])
	}
}

func TestDisplayOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{Tags: Tags{VariousArtists: "a/b"}}, "tags.various_artists"},
		{Config{Tags: Tags{VariousArtists: ".."}}, "tags.various_artists"},
		{Config{Tags: Tags{Separator: "/"}}, "tags.separator"},
		{Config{Tags: Tags{Separator: strings.Repeat("-", 17)}}, "tags.separator"},
	} {
		if err := tc.cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want+": ") {
			t.Errorf("Validate(%+v) = %v, want an error naming %s", tc.cfg, err, tc.want)
		}
	}
}
