package tree

import (
	"strings"
	"testing"

	"github.com/musicfs/musicfs/modules/index"
)

func TestParseTemplateErrors(t *testing.T) {
	for _, tc := range []struct {
		tpl, want string
	}{
		{"", "empty"},
		{"{", "unbalanced"},
		{"}", "unbalanced"},
		{"{artist", "unbalanced"},
		{"artist}", "unbalanced"},
		{"{{artist}}", "unbalanced"},
		{"{art/ist}", "unbalanced"},
		{"{}", "unknown field"},
		{"{foo}", "unknown field"},
		{"{Artist}", "unknown field"},
		{"{artist:02}", "width"},
		{"{track:}", "width"},
		{"{track:x}", "width"},
		{"{track:-2}", "width"},
		{"{track:999}", "width"},
		{"a//{title}", "empty path segment"},
		{"/{title}", "empty path segment"},
		{"{title}/", "empty path segment"},
		{"../{title}", "not a valid"},
		{" /{title}", "not a valid"},
		{"a\x00b/{title}", "not a valid"},
	} {
		t.Run(tc.tpl, func(t *testing.T) {
			_, err := parseTemplate(tc.tpl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseTemplate(%q) = %v, want error containing %q", tc.tpl, err, tc.want)
			}
		})
	}
}

func TestParseTemplateValid(t *testing.T) {
	for _, v := range DefaultViews() {
		if _, err := parseTemplate(v.Template); err != nil {
			t.Errorf("default view %s: %v", v.Name, err)
		}
	}
	for _, tpl := range []string{
		"{title}",
		"All/{track:2} {title}.{ext}",
		"{origin}/{filename}.{ext}",
		"{artist} [{year:04}]/{disc}of{disctotal} {title}",
	} {
		if _, err := parseTemplate(tpl); err != nil {
			t.Errorf("parseTemplate(%q): %v", tpl, err)
		}
	}
}

func TestViewValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    View
		want string // "" = valid
	}{
		{"default", DefaultViews()[0], ""},
		{"empty name", View{Name: "", Template: "{title}"}, "name: must not be empty"},
		{"slash name", View{Name: "a/b", Template: "{title}"}, "name: "},
		{"dotdot name", View{Name: "..", Template: "{title}"}, "name: "},
		{"space name", View{Name: " A", Template: "{title}"}, "name: "},
		{"reserved", View{Name: "Origins", Template: "{title}"}, "reserved"},
		{"empty template", View{Name: "A", Template: ""}, "template: "},
		{"bad template", View{Name: "A", Template: "{nope}"}, "template: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.v.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestConfigValidateDuplicates(t *testing.T) {
	c := Config{Views: []View{{Name: "A", Template: "{title}"}, {Name: "B", Template: "{title}"}, {Name: "A", Template: "{artist}"}}}
	err := c.Validate()
	if err == nil || err.Error() != `views[2].name: duplicate "A" (also views[0])` {
		t.Fatalf("Validate() = %v", err)
	}
	c = Config{Views: []View{{Name: "A", Template: "{x}"}}}
	if err := c.Validate(); err == nil || !strings.HasPrefix(err.Error(), "views[0].template: ") {
		t.Fatalf("Validate() = %v", err)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
}

// renderPath renders a track's path elements below the view directory with
// each field's values joined: where every field has one value, the one
// place Build puts the track.
func (tpl *template) renderPath(t *index.Track) []string {
	var v values
	st := style{various: DefaultVariousArtists, separator: DefaultSeparator}
	v.set(t, &st)
	var buf []byte
	var lits []string
	out := make([]string, len(tpl.segs))
	for i := range tpl.segs {
		seg := &tpl.segs[i]
		buf, lits = seg.render(buf[:0], &v, lits)
		out[i] = seg.finish(string(buf), i == len(tpl.segs)-1)
	}
	return out
}

func tagged(rel string, f func(*index.Track)) *index.Track {
	t := &index.Track{Origin: "o", RelPath: rel, Size: 1, Audio: true, Tagged: true}
	if f != nil {
		f(t)
	}
	return t
}

func TestRender(t *testing.T) {
	views := map[string]string{}
	for _, v := range DefaultViews() {
		views[v.Name] = v.Template
	}
	coltrane := func(tr *index.Track) {
		tr.AlbumArtists, tr.Artists, tr.Album, tr.Title = []string{"John Coltrane"}, []string{"John Coltrane"}, "Blue Train", "Moment's Notice"
		tr.Year, tr.Track, tr.Disc, tr.DiscTotal, tr.Genres = 1957, 2, 1, 1, []string{"Jazz"}
	}
	for _, tc := range []struct {
		name, tpl string
		track     *index.Track
		want      string
	}{
		{"artists single disc", views["Artists"], tagged("bt/02.flac", coltrane), "John Coltrane/Blue Train (1957)/02 Moment's Notice.flac"},
		{"artists multi disc", views["Artists"], tagged("w/2-01.MP3", func(t *index.Track) {
			t.Artists, t.Album, t.Title, t.Year, t.Disc, t.DiscTotal, t.Track = []string{"Pink Floyd"}, "The Wall", "Hey You", 1979, 2, 2, 1
		}), "Pink Floyd/The Wall (1979)/2-01 Hey You.mp3"},
		{"disc known only from number", views["Artists"], tagged("a.flac", func(t *index.Track) {
			t.Artists, t.Album, t.Title, t.Disc, t.Track = []string{"X"}, "Album", "T", 2, 3
		}), "X/Album/2-03 T.flac"},
		{"no year", views["Artists"], tagged("a.flac", func(t *index.Track) {
			t.Artists, t.Album, t.Title, t.Track = []string{"X"}, "Album", "T", 3
		}), "X/Album/03 T.flac"},
		{"no track single disc", views["Artists"], tagged("a.flac", func(t *index.Track) {
			t.Artists, t.Album, t.Title = []string{"X"}, "Album", "T"
		}), "X/Album/T.flac"},
		{"albums no year", views["Albums"], tagged("a.flac", func(t *index.Track) {
			t.Artists, t.Album, t.Title, t.Track = []string{"Artist"}, "Album", "T", 1
		}), "Album - Artist/01 T.flac"},
		{"albums with year", views["Albums"], tagged("bt/02.flac", coltrane), "Blue Train (1957) - John Coltrane/02 Moment's Notice.flac"},
		{"years no year", views["Years"], tagged("a.flac", func(t *index.Track) {
			t.Artists, t.Album, t.Title, t.Track = []string{"Artist"}, "Album", "T", 1
		}), "Unknown Year/Artist - Album/01 T.flac"},
		{"genres", views["Genres"], tagged("bt/02.flac", coltrane), "Jazz/John Coltrane/Blue Train/02 Moment's Notice.flac"},
		{"untagged", views["Genres"], &index.Track{Origin: "o", RelPath: "dir/Some Song.FLAC", Audio: true},
			"Unknown Genre/Unknown Artist/Unknown Album/Some Song.flac"},
		{"albumartist preferred", views["Artists"], tagged("a.flac", func(t *index.Track) {
			t.Artists, t.AlbumArtists, t.Album, t.Title = []string{"Feat"}, []string{"Main"}, "A", "T"
		}), "Main/A/T.flac"},
		{"whitespace tags are missing", views["Artists"], tagged("dir/file.ogg", func(t *index.Track) {
			t.Artists, t.AlbumArtists, t.Album, t.Title = []string{" \t"}, []string{"  "}, "\x00", " "
		}), "Unknown Artist/Unknown Album/file.ogg"},
		{"slash and dots in tags", views["Artists"], tagged("a.mp3", func(t *index.Track) {
			t.Artists, t.Album, t.Title, t.Track = []string{".."}, "AC/DC", "../../etc/passwd", 1
		}), "．．/AC／DC/01 ..／..／etc／passwd.mp3"},
		{"dot album", views["Artists"], tagged("a.mp3", func(t *index.Track) {
			t.Artists, t.Album, t.Title = []string{"A"}, ".", "."
		}), "A/．/..mp3"},
		{"no extension", "{title}.{ext}", tagged("dir/README", func(t *index.Track) { t.Title = "T" }), "T"},
		{"brackets square", "{album} [{year}]/{title}", tagged("a.flac", func(t *index.Track) { t.Album, t.Title = "A", "T" }), "A/T"},
		{"brackets square present", "{album} [{year}]/{title}", tagged("a.flac", func(t *index.Track) { t.Album, t.Title, t.Year = "A", "T", 2001 }), "A [2001]/T"},
		{"last field drops separator before", "{artist} - {year}/{title}", tagged("a.flac", func(t *index.Track) { t.Artists, t.Title = []string{"A"}, "T" }), "A/T"},
		{"only field with literals", "Disc {disc}/{title}", tagged("a.flac", func(t *index.Track) { t.Title = "T" }), "Unknown Disc/T"},
		{"width", "{year:06}/{track:3} {filename}", tagged("d/f.flac", func(t *index.Track) { t.Year, t.Track = 1999, 7 }), "001999/007 f"},
		{"origin and disctotal", "{origin}/{disc}of{disctotal}", tagged("a.flac", func(t *index.Track) { t.Disc, t.DiscTotal = 1, 3 }), "o/1of3"},
		{"all optional missing in file", "{year}/{disc}-{track}", tagged("a.flac", nil), "Unknown Year/Unknown Disc"},
		{"control chars", views["Artists"], tagged("a.flac", func(t *index.Track) {
			t.Artists, t.Album, t.Title = []string{"A\x01B\nC"}, "Al\x7fbum", "T\tX"
		}), "AB C/Album/T X.flac"},
		{"invalid utf8", "{artist}/{title}", tagged("a.flac", func(t *index.Track) { t.Artists, t.Title = []string{"a\xffb"}, "T" }), "aÿb/T"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := parseTemplate(tc.tpl)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(tpl.renderPath(tc.track), "/")
			if got != tc.want {
				t.Fatalf("render %q\n got %q\nwant %q", tc.tpl, got, tc.want)
			}
		})
	}
}

func TestRenderLongTitleKeepsExtension(t *testing.T) {
	tpl, _ := parseTemplate(DefaultViews()[0].Template)
	tr := tagged("a.flac", func(t *index.Track) { t.Title = strings.Repeat("é", 300) })
	els := tpl.renderPath(tr)
	name := els[len(els)-1]
	if len(name) > 255 || !strings.HasSuffix(name, "é.flac") {
		t.Fatalf("name %q (%d bytes)", name, len(name))
	}
}

// Every problem is reported, each naming its full key.
func TestConfigValidateNamesTheKey(t *testing.T) {
	c := Config{
		Views: []View{{Name: "Origins", Template: "{title}"}, {Name: "A", Template: "{album"}, {Name: "B", Template: "{title}"}, {Name: "B", Template: "{title}"}},
		Tags:  Tags{VariousArtists: "V/A", Separator: "/"},
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"views[0].name: ", "views[1].template: ", `views[3].name: duplicate "B" (also views[2])`, "tags.various_artists: ", "tags.separator: "}
	if len(lines) != len(want) {
		t.Fatalf("Validate() =\n%v\nwant %d problems", err, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want it to start with %q", i, lines[i], w)
		}
	}
}
