package tree

import (
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/musicfs/musicfs/modules/index"
)

// Bytes that are not UTF-8 in a name are read as Windows-1252 (Latin-1 with
// printable characters for 0x80–0x9F): what old Samba and NFS shares hold,
// shown as it was written rather than as a row of U+FFFD.
func TestSanitizeInvalidUTF8AsWindows1252(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"latin-1", "Caf\xe9", "Café"},
		{"latin-1 file", "\xe9t\xe9.flac", "été.flac"},
		{"every latin-1 letter", "\xc0\xc9\xd1\xd6\xdf\xe0\xe7\xf1\xf6\xff", "ÀÉÑÖßàçñöÿ"},
		{"windows-1252 punctuation", "\x80 \x85 \x91x\x92 \x93y\x94 \x96 \x99", "€ … ‘x’ “y” – ™"},
		{"undefined in windows-1252", "a\x81\x8d\x8f\x90\x9db", "a\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDb"},
		{"no-break spaces trimmed", "\xa0x\xa0", "x"},
		{"soft hyphen removed", "a\xadb", "ab"},
		{"mixed with utf-8", "Café \xe9t\xe9", "Café été"},
		{"utf-8 cut short", "ab\xc3", "abÃ"},
		{"bytes of a utf-8 letter apart", "\xa9\xc3", "©Ã"},
		{"a literal U+FFFD stays", "a\uFFFDb", "a\uFFFDb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sanitize(tc.in, true)
			if got != tc.want {
				t.Fatalf("sanitize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			checkName(t, got)
			if again := sanitize(got, true); again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

// Origins/ shows each directory and file of an origin as one entry, however
// its raw name sanitises: raw names that look the same get a suffix (the one
// already spelled as shown keeps the plain name), and every file entry,
// there and in the tag views, keeps its own raw relpath.
func TestBuildRawNames(t *testing.T) {
	tracks := []*index.Track{
		song("lib", "Caf\xe9/\xe9t\xe9.flac", "Édith Piaf", "Café", "Été", 1950, 1),
		song("lib", "Café/été.flac", "Édith Piaf", "Café", "Été", 1950, 1),
		file("lib", "Caf\xe9/notes.txt", t0),
		file("lib", "x/\x81.txt", t0),
		file("lib", "x/\x8d.txt", t0),
		file("lib", "a\x01/b", t0), // sorts before "a/c", yet "a" is a's name
		file("lib", "a/c", t0),
	}
	want := []string{
		"Origins/",
		"Origins/lib/",
		"Origins/lib/Café/",
		"Origins/lib/Café/été.flac <- Café/été.flac",
		"Origins/lib/Café (2)/",
		"Origins/lib/Café (2)/notes.txt <- Caf\xe9/notes.txt",
		"Origins/lib/Café (2)/été.flac <- Caf\xe9/\xe9t\xe9.flac",
		"Origins/lib/a/",
		"Origins/lib/a/c <- a/c",
		"Origins/lib/a (2)/",
		"Origins/lib/a (2)/b <- a\x01/b",
		"Origins/lib/x/",
		"Origins/lib/x/\uFFFD (2).txt <- x/\x8d.txt",
		"Origins/lib/x/\uFFFD.txt <- x/\x81.txt",
	}
	wantView := []string{
		"01 Été (2).flac <- Caf\xe9/\xe9t\xe9.flac",
		"01 Été.flac <- Café/été.flac",
	}
	var inos map[string]uint64
	for i := range 10 {
		in := slices.Clone(tracks)
		rand.New(rand.NewPCG(uint64(i), 3)).Shuffle(len(in), func(a, b int) { in[a], in[b] = in[b], in[a] })
		s := mustBuild(t, in, DefaultViews())
		var got []string
		for _, p := range walk(s) {
			if !strings.HasPrefix(p, "Origins/") {
				continue
			}
			if n := s.LookupPath(strings.TrimSuffix(p, "/")); n != nil && !n.Dir {
				p += " <- " + n.RelPath()
			}
			got = append(got, p)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("shuffle %d: Origins:\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		got = got[:0]
		for _, c := range s.Children(mustFind(t, s, "Artists/Édith Piaf/Café (1950)")) {
			got = append(got, c.Name+" <- "+c.RelPath())
		}
		if !slices.Equal(got, wantView) {
			t.Fatalf("shuffle %d: album directory:\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(wantView, "\n"))
		}
		if m := inoMap(s); inos == nil {
			inos = m
		} else if !maps.Equal(m, inos) {
			t.Fatalf("shuffle %d: inode numbers differ", i)
		}
	}
}

// A file whose raw name is shown as it is keeps its name (and so its inode
// number) when a file whose raw name sanitises to the same appears beside
// it, even one that sorts first ("\xc0" is before "\xc3\x80", "À" in UTF-8).
func TestBuildRawNameTwinKeepsExactName(t *testing.T) {
	const shown, latin1 = "À la.flac", "\xc0 la.flac"
	exact := song("lib", shown, "A", "Al", "T", 0, 1)
	before := mustBuild(t, []*index.Track{exact}, nil)
	after := mustBuild(t, []*index.Track{exact, song("lib", latin1, "A", "Al", "T", 0, 1)}, nil)
	n := mustFind(t, after, "Origins/lib/"+shown)
	if n.RelPath() != shown {
		t.Fatalf("%s is now the file %q", shown, n.RelPath())
	}
	if n.Ino != mustFind(t, before, "Origins/lib/"+shown).Ino {
		t.Fatalf("%s changed inode number", shown)
	}
	if n := mustFind(t, after, "Origins/lib/À la (2).flac"); n.RelPath() != latin1 {
		t.Fatalf("À la (2).flac is the file %q", n.RelPath())
	}
}
