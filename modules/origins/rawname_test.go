package origins

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"testing"
)

// Names on old Samba and NFS shares are often Latin-1: bytes that are not
// valid UTF-8. They are names like any other on Linux, and an origin must
// list, open and stat them by their raw bytes.
const (
	latin1Dir  = "Caf\xe9"                     // "Café" in Latin-1
	latin1File = latin1Dir + "/\xe9t\xe9.flac" // "Café/été.flac"
	utf8File   = "Café/été.flac"               // the same name in UTF-8: another file
)

func TestRawNamesListedOpenedAndStatted(t *testing.T) {
	l, root := newTestLocal(t)
	files := map[string]string{
		latin1File:         "latin-1 bytes",
		utf8File:           "utf-8 bytes",
		"\xff\xfe.txt":     "no encoding at all",
		latin1Dir + "/sub": "deeper",
	}
	for rel, data := range files {
		writeFile(t, root, rel, []byte(data))
	}

	var listed []string
	if err := l.Walk(context.Background(), func(e Entry) error {
		listed = append(listed, e.RelPath)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"a/b.txt"}
	for rel := range files {
		want = append(want, rel)
	}
	slices.Sort(listed)
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Fatalf("Walk listed %q, want %q", listed, want)
	}

	for rel, data := range files {
		f, err := l.Open(context.Background(), rel)
		if err != nil {
			t.Errorf("Open(%q): %v", rel, err)
			continue
		}
		buf := make([]byte, len(data)+1)
		n, _ := f.ReadAt(context.Background(), buf, 0)
		f.Close()
		if string(buf[:n]) != data {
			t.Errorf("Open(%q) read %q, want %q", rel, buf[:n], data)
		}
		if fi, err := l.Stat(context.Background(), rel); err != nil || fi.Size() != int64(len(data)) {
			t.Errorf("Stat(%q) = %v, %v", rel, fi, err)
		}
	}

	var under []string
	if err := l.WalkDir(context.Background(), latin1Dir, func(e Entry) error {
		under = append(under, e.RelPath)
		return nil
	}); err != nil {
		t.Fatalf("WalkDir(%q): %v", latin1Dir, err)
	}
	slices.Sort(under)
	if want := []string{latin1Dir + "/sub", latin1File}; !slices.Equal(under, want) {
		t.Errorf("WalkDir(%q) listed %q, want %q", latin1Dir, under, want)
	}
}

// Invalid UTF-8 is no reason to refuse a path; "..", absolute paths, empty
// elements and NUL still are, whatever bytes surround them.
func TestRawNamesCannotEscape(t *testing.T) {
	l, root := newTestLocal(t)
	writeFile(t, root, latin1File, []byte("inside"))
	symlink(t, "../outside.txt", filepath.Join(root, latin1Dir, "up\xe9"))
	for _, rel := range []string{
		latin1Dir + "/../../outside.txt", "\xe9/../../outside.txt", "/" + latin1File,
		latin1Dir + "//\xe9t\xe9.flac", latin1File + "/", "./" + latin1File,
		latin1Dir + "/up\xe9", latin1File + "\x00", "\x00", latin1Dir + "/..",
	} {
		f, err := l.Open(context.Background(), rel)
		if err == nil {
			f.Close()
			t.Errorf("Open(%q) succeeded, want fs.ErrNotExist", rel)
		} else if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Open(%q) = %v, want fs.ErrNotExist", rel, err)
		}
		if _, err := l.Stat(context.Background(), rel); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%q) = %v, want fs.ErrNotExist", rel, err)
		}
	}
}

func TestValidRelPath(t *testing.T) {
	for _, tc := range []struct {
		rel  string
		want bool
	}{
		{"a/b.txt", true},
		{latin1File, true},
		{"\xff", true},
		{"\xc3", true}, // a UTF-8 sequence cut short
		{"a\\b", true}, // a backslash is an ordinary byte here
		{"...", true},
		{".hidden/x", true},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a/../b", false},
		{"a/..", false},
		{"\xe9/..", false},
		{"/a", false},
		{"a/", false},
		{"a//b", false},
		{"./a", false},
		{"a/./b", false},
		{"a\x00b", false},
		{"\xe9\x00", false},
	} {
		if got := ValidRelPath(tc.rel); got != tc.want {
			t.Errorf("ValidRelPath(%q) = %v, want %v", tc.rel, got, tc.want)
		}
	}
}
