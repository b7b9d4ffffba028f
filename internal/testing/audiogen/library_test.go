package audiogen

import (
	"bytes"
	"errors"
	"image/jpeg"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/modules/index/tags"
)

func libraryByPath(t *testing.T) map[string]LibFile {
	t.Helper()
	m := map[string]LibFile{}
	for _, f := range StandardLibrary() {
		if _, dup := m[f.RelPath]; dup {
			t.Fatalf("duplicate RelPath %q", f.RelPath)
		}
		if !fs.ValidPath(f.RelPath) {
			t.Fatalf("RelPath %q is not a clean relative slash path", f.RelPath)
		}
		m[f.RelPath] = f
	}
	return m
}

func TestStandardLibraryDeterministic(t *testing.T) {
	a, b := StandardLibrary(), StandardLibrary()
	if len(a) != len(b) {
		t.Fatalf("lengths %d, %d", len(a), len(b))
	}
	for i := range a {
		if a[i].RelPath != b[i].RelPath || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s differs between calls", a[i].RelPath)
		}
	}
}

func TestStandardLibraryContents(t *testing.T) {
	lib := libraryByPath(t)
	want := []struct {
		path   string
		format string
		tags   Tags
	}{
		{"John Coltrane/Blue Train/01 Blue Train.flac", FormatFLAC, Tags{Title: "Blue Train", Artist: "John Coltrane", AlbumArtist: "John Coltrane", Album: "Blue Train", Genre: "Jazz", Year: 1957, Track: 1, TrackTotal: 3}},
		{"John Coltrane/Blue Train/02 Moment's Notice.flac", FormatFLAC, Tags{Title: "Moment's Notice", Artist: "John Coltrane", AlbumArtist: "John Coltrane", Album: "Blue Train", Genre: "Jazz", Year: 1957, Track: 2, TrackTotal: 3}},
		{"John Coltrane/Blue Train/03 Locomotion.flac", FormatFLAC, Tags{Title: "Locomotion", Artist: "John Coltrane", AlbumArtist: "John Coltrane", Album: "Blue Train", Genre: "Jazz", Year: 1957, Track: 3, TrackTotal: 3}},
		{"John Coltrane/Blue Train/cover.jpg", FormatJPEG, Tags{}},
		{"John Coltrane/Blue Train/notes.txt", FormatText, Tags{}},
		{"Pink Floyd/The Wall/CD1/01 In the Flesh.mp3", FormatMP3ID3v23v1, Tags{Title: "In the Flesh?", Artist: "Pink Floyd", AlbumArtist: "Pink Floyd", Album: "The Wall", Genre: "Rock", Year: 1979, Track: 1, TrackTotal: 2, Disc: 1, DiscTotal: 2}},
		{"Pink Floyd/The Wall/CD1/02 The Thin Ice.mp3", FormatMP3ID3v23v1, Tags{Title: "The Thin Ice", Artist: "Pink Floyd", AlbumArtist: "Pink Floyd", Album: "The Wall", Genre: "Rock", Year: 1979, Track: 2, TrackTotal: 2, Disc: 1, DiscTotal: 2}},
		{"Pink Floyd/The Wall/CD2/01 Hey You.mp3", FormatMP3ID3v23v1, Tags{Title: "Hey You", Artist: "Pink Floyd", AlbumArtist: "Pink Floyd", Album: "The Wall", Genre: "Rock", Year: 1979, Track: 1, TrackTotal: 2, Disc: 2, DiscTotal: 2}},
		{"Pink Floyd/The Wall/CD2/02 Is There Anybody Out There.mp3", FormatMP3ID3v23v1, Tags{Title: "Is There Anybody Out There?", Artist: "Pink Floyd", AlbumArtist: "Pink Floyd", Album: "The Wall", Genre: "Rock", Year: 1979, Track: 2, TrackTotal: 2, Disc: 2, DiscTotal: 2}},
		{"AC_DC/Back In Black/01 Hells Bells.mp3", FormatMP3ID3v24, Tags{Title: "Hells Bells", Artist: "AC/DC", AlbumArtist: "AC/DC", Album: "Back/In Black", Genre: "Hard Rock", Year: 1980, Track: 1, TrackTotal: 10}},
		{"Edge Case/Dots/01 dotdot.flac", FormatFLAC, Tags{Title: "..", Artist: "Edge Case", Album: "Dots", Year: 2001, Track: 1}},
		{"Edge Case/Dot/01 Dot Album.flac", FormatFLAC, Tags{Title: "Dot Album", Artist: "Edge Case", Album: ".", Year: 2002, Track: 1}},
		{"Björk/Homogenic/01 Hunter.mp3", FormatMP3ID3v23, Tags{Title: "Hunter", Artist: "Björk", AlbumArtist: "Björk", Album: "Homogenic", Genre: "Electronic", Year: 1997, Track: 1, TrackTotal: 10}},
		{"Björk/Homogenic/02 Jóga.flac", FormatFLAC, Tags{Title: "Jóga", Artist: "Björk", AlbumArtist: "Björk", Album: "Homogenic", Genre: "Electronic", Year: 1997, Track: 2, TrackTotal: 10}},
		{"坂本龍一/Merry Christmas Mr. Lawrence/01 戦場のメリークリスマス.mp3", FormatMP3ID3v24, Tags{Title: "戦場のメリークリスマス", Artist: "坂本龍一", AlbumArtist: "坂本龍一", Album: "Merry Christmas Mr. Lawrence", Genre: "Soundtrack", Year: 1983, Track: 1, TrackTotal: 19}},
		{"坂本龍一/Merry Christmas Mr. Lawrence/02 The Seed and the Sower.flac", FormatFLAC, Tags{Title: "The Seed and the Sower", Artist: "坂本龍一", AlbumArtist: "坂本龍一", Album: "Merry Christmas Mr. Lawrence", Genre: "Soundtrack", Year: 1983, Track: 2, TrackTotal: 19}},
		{"Unsorted/only title.mp3", FormatMP3ID3v23, Tags{Title: "Lonely Title"}},
		{"Unsorted/no tags.mp3", FormatMP3, Tags{}},
		{"Unsorted/empty id3v1.mp3", FormatMP3ID3v1, Tags{}},
		{"Duplicate Band/Twice/01 Intro.mp3", FormatMP3ID3v24, Tags{Title: "Intro", Artist: "Duplicate Band", AlbumArtist: "Duplicate Band", Album: "Twice", Genre: "Pop", Year: 2010, Track: 1}},
		{"Duplicate Band/Twice/Intro (alternate take).mp3", FormatMP3ID3v24, Tags{Title: "Intro", Artist: "Duplicate Band", AlbumArtist: "Duplicate Band", Album: "Twice", Genre: "Pop", Year: 2010, Track: 1}},
		{"Legacy Tagger/Old Format/01 Two Point Two.mp3", FormatMP3ID3v22, Tags{Title: "Two Point Two", Artist: "Legacy Tagger", AlbumArtist: "Legacy Tagger", Album: "Old Format", Genre: "Pop", Year: 1998, Track: 1, TrackTotal: 1}},
		{"Old Timer/gramophone.mp3", FormatMP3ID3v1, Tags{Title: "Gramophone", Artist: "Old Timer", Album: "Vintage", Genre: "Oldies", Year: 1930, Track: 1}},
	}
	for _, w := range want {
		f, ok := lib[w.path]
		if !ok {
			t.Errorf("missing %s", w.path)
			continue
		}
		delete(lib, w.path)
		if f.Format != w.format || f.Tags != w.tags {
			t.Errorf("%s: format %q tags %+v\nwant format %q tags %+v", w.path, f.Format, f.Tags, w.format, w.tags)
		}
		if len(f.Data) == 0 {
			t.Errorf("%s: no data", w.path)
		}
	}
	for p := range lib {
		t.Errorf("unexpected file %s", p)
	}
}

func TestStandardLibraryTagsReadBack(t *testing.T) {
	// The container and tag blocks our reader must report for each format.
	wantBlocks := map[string]struct {
		format string
		blocks []tags.Kind
	}{
		FormatFLAC:        {"flac", []tags.Kind{tags.Vorbis}},
		FormatMP3:         {"mpeg", nil},
		FormatMP3ID3v1:    {"mpeg", []tags.Kind{tags.ID3v1}},
		FormatMP3ID3v22:   {"mpeg", []tags.Kind{tags.ID3v22}},
		FormatMP3ID3v23:   {"mpeg", []tags.Kind{tags.ID3v23}},
		FormatMP3ID3v23v1: {"mpeg", []tags.Kind{tags.ID3v23, tags.ID3v1}},
		FormatMP3ID3v24:   {"mpeg", []tags.Kind{tags.ID3v24}},
	}
	for _, f := range StandardLibrary() {
		if !f.Audio() {
			continue
		}
		t.Run(f.RelPath, func(t *testing.T) {
			w, ok := wantBlocks[f.Format]
			if !ok {
				t.Fatalf("no expectation for format %q", f.Format)
			}
			if strings.HasSuffix(f.Format, "+id3v1") && !bytes.HasPrefix(f.Data[len(f.Data)-128:], []byte("TAG")) {
				t.Errorf("no ID3v1 tag at the end")
			}
			if f.Tags == (Tags{}) {
				// No tag at all, or an ID3v1 tag holding no value: no tags.
				got, err := readTags(f.Data)
				if !errors.Is(err, tags.ErrNoTags) || !equalTags(got, tags.Tags{Format: w.format}) {
					t.Errorf("untagged file: tags.Read = %+v, %v; want ErrNoTags in %s", got, err, w.format)
				}
				return
			}
			checkTags(t, f.Data, f.Tags, w.format, w.blocks...)
		})
	}
}

func TestStandardLibraryEdgeCases(t *testing.T) {
	lib := libraryByPath(t)
	a, b := lib["Duplicate Band/Twice/01 Intro.mp3"], lib["Duplicate Band/Twice/Intro (alternate take).mp3"]
	if a.Tags != b.Tags || path.Ext(a.RelPath) != path.Ext(b.RelPath) {
		t.Errorf("duplicates must collide: %+v vs %+v", a.Tags, b.Tags)
	}
	if bytes.Equal(a.Data, b.Data) {
		t.Errorf("duplicate-title files must differ in bytes")
	}
	seen := map[string]string{}
	for _, f := range StandardLibrary() {
		sum := string(f.Data)
		if other, ok := seen[sum]; ok {
			t.Errorf("%s and %s have identical bytes", f.RelPath, other)
		}
		seen[sum] = f.RelPath
	}
	img, err := jpeg.Decode(bytes.NewReader(lib["John Coltrane/Blue Train/cover.jpg"].Data))
	if err != nil {
		t.Fatalf("cover.jpg: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 2 || b.Dy() != 2 {
		t.Errorf("cover is %v", b)
	}
	if notes := lib["John Coltrane/Blue Train/notes.txt"]; notes.Audio() || !strings.Contains(string(notes.Data), "Blue Train") {
		t.Errorf("notes.txt: %q", notes.Data)
	}
}

func TestStandardLibraryWithFFmpeg(t *testing.T) {
	mounttest.RequireTool(t, "ffmpeg")
	dir := t.TempDir()
	for _, f := range StandardLibrary() {
		if !f.Audio() {
			continue
		}
		t.Run(f.RelPath, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(f.RelPath, "/", "_"))
			if err := os.WriteFile(p, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			ffmpegNull(t, p)
		})
	}
}

func TestWriteLibrary(t *testing.T) {
	dir := t.TempDir()
	files := StandardLibrary()
	if err := WriteLibrary(dir, files); err != nil {
		t.Fatal(err)
	}
	count := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.ModTime().Equal(ModTime()) {
			t.Errorf("%s: mtime %v, want %v", p, info.ModTime(), ModTime())
		}
		if d.IsDir() {
			return nil
		}
		count++
		if info.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", p, info.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != len(files) {
		t.Errorf("wrote %d files, want %d", count, len(files))
	}
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.RelPath)))
		if err != nil || !bytes.Equal(got, f.Data) {
			t.Errorf("%s: read back %d bytes, %v", f.RelPath, len(got), err)
		}
	}
}

func TestWriteLibraryRejectsEscapingPaths(t *testing.T) {
	for _, p := range []string{"../evil.mp3", "/abs.mp3", "a/../../b.mp3", "", "."} {
		dir := t.TempDir()
		if err := WriteLibrary(filepath.Join(dir, "lib"), []LibFile{{RelPath: p, Data: []byte("x")}}); err == nil {
			t.Errorf("WriteLibrary accepted %q", p)
		}
		if _, err := os.Stat(filepath.Join(dir, "evil.mp3")); err == nil {
			t.Errorf("%q escaped the library", p)
		}
	}
}
