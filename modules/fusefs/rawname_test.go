package fusefs_test

import (
	"os"
	"slices"
	"testing"
)

// Files whose names are not UTF-8 (Latin-1, from an old share) are listed
// under display names and read, byte for byte, from the right origin file,
// through Origins/ and through the tag views, also when two raw names
// display alike.
func TestRawNamesOpenTheirOwnFiles(t *testing.T) {
	e := start(t, map[string]string{
		"Caf\xe9/\xe9t\xe9.flac": "latin-1 named",
		"Café/été.flac":          "utf-8 named",
		"x/\x81.txt":             "first undefined byte",
		"x/\x8d.txt":             "second undefined byte",
	})
	for _, tc := range []struct{ dir string }{
		{"Origins/lib"},
		{"Origins/lib/x"},
		{"Artists/Artist/Album (2001)"},
	} {
		des, err := os.ReadDir(e.path(tc.dir))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, de := range des {
			names = append(names, de.Name())
		}
		want := map[string][]string{
			"Origins/lib":                 {"Café", "Café (2)", "x"},
			"Origins/lib/x":               {"\uFFFD (2).txt", "\uFFFD.txt"},
			"Artists/Artist/Album (2001)": {"été (2).flac", "été.flac"},
		}[tc.dir]
		if !slices.Equal(names, want) {
			t.Errorf("%s lists %q, want %q", tc.dir, names, want)
		}
	}
	for _, tc := range []struct{ path, want string }{
		{"Origins/lib/Café/été.flac", "utf-8 named"},
		{"Origins/lib/Café (2)/été.flac", "latin-1 named"},
		{"Origins/lib/x/\uFFFD.txt", "first undefined byte"},
		{"Origins/lib/x/\uFFFD (2).txt", "second undefined byte"},
		{"Artists/Artist/Album (2001)/été.flac", "utf-8 named"},
		{"Artists/Artist/Album (2001)/été (2).flac", "latin-1 named"},
	} {
		got, err := os.ReadFile(e.path(tc.path))
		if err != nil {
			t.Errorf("read %s: %v", tc.path, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("%s reads %q, want %q", tc.path, got, tc.want)
		}
		if fi, err := os.Stat(e.path(tc.path)); err != nil || fi.Size() != int64(len(tc.want)) {
			t.Errorf("stat %s: %v, %v", tc.path, fi, err)
		}
	}
}
