package audiogen

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Formats of LibFile. MP3 formats name the tags the file carries.
const (
	FormatFLAC        = "flac"
	FormatMP3         = "mp3" // no tag at all
	FormatMP3ID3v1    = "mp3+id3v1"
	FormatMP3ID3v22   = "mp3+id3v2.2"
	FormatMP3ID3v23   = "mp3+id3v2.3"
	FormatMP3ID3v23v1 = "mp3+id3v2.3+id3v1"
	FormatMP3ID3v24   = "mp3+id3v2.4"
	FormatJPEG        = "jpeg"
	FormatText        = "text"
	FormatMalformed   = "malformed"
)

// LibFile is one file of a generated library. Tags are what a correct tag
// reader finds in Data (zero for non-audio and untagged files).
type LibFile struct {
	RelPath string // slash-separated, relative to the library root
	Data    []byte
	Tags    Tags
	Format  string // one of the Format constants
}

// Audio reports whether the file is a well-formed audio file.
func (f LibFile) Audio() bool {
	return f.Format == FormatFLAC || f.Format == FormatMP3 || strings.HasPrefix(f.Format, FormatMP3+"+")
}

// ModTime is the modification time WriteLibrary, WriteLarge and WriteBig
// give every file and directory they create.
func ModTime() time.Time {
	return time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
}

// StandardLibrary is the end-to-end library: a few real albums plus every
// edge case the tag views must handle. See the package tests for its exact
// contents.
func StandardLibrary() []LibFile {
	var lib []LibFile
	seed := int64(0)
	flac := func(p string, t Tags) {
		seed++
		lib = append(lib, LibFile{p, FLAC(t, FLACOptions{Seed: seed, Seconds: 0.5}), t, FormatFLAC})
	}
	mp3 := func(p string, t Tags, opt MP3Options) {
		seed++
		opt.Seed = seed
		lib = append(lib, LibFile{p, MP3(t, opt), t, mp3Format(opt)})
	}
	v22, v23, v24 := MP3Options{ID3v2: 2}, MP3Options{ID3v2: 3}, MP3Options{ID3v2: 4}

	coltrane := Tags{Artist: "John Coltrane", AlbumArtist: "John Coltrane", Album: "Blue Train", Genre: "Jazz", Year: 1957, TrackTotal: 3}
	for i, title := range []string{"Blue Train", "Moment's Notice", "Locomotion"} {
		t := coltrane
		t.Title, t.Track = title, i+1
		flac(fmt.Sprintf("John Coltrane/Blue Train/%02d %s.flac", i+1, title), t)
	}
	lib = append(lib,
		LibFile{RelPath: "John Coltrane/Blue Train/cover.jpg", Data: coverJPEG(), Format: FormatJPEG},
		LibFile{RelPath: "John Coltrane/Blue Train/notes.txt", Data: []byte("Blue Train, recorded 15 September 1957.\n"), Format: FormatText},
	)

	wall := Tags{Artist: "Pink Floyd", AlbumArtist: "Pink Floyd", Album: "The Wall", Genre: "Rock", Year: 1979, TrackTotal: 2, DiscTotal: 2}
	for _, tr := range []struct {
		file, title string
		disc, track int
	}{
		{"CD1/01 In the Flesh.mp3", "In the Flesh?", 1, 1},
		{"CD1/02 The Thin Ice.mp3", "The Thin Ice", 1, 2},
		{"CD2/01 Hey You.mp3", "Hey You", 2, 1},
		{"CD2/02 Is There Anybody Out There.mp3", "Is There Anybody Out There?", 2, 2},
	} {
		t := wall
		t.Title, t.Disc, t.Track = tr.title, tr.disc, tr.track
		mp3("Pink Floyd/The Wall/"+tr.file, t, MP3Options{ID3v2: 3, ID3v1: true})
	}

	mp3("AC_DC/Back In Black/01 Hells Bells.mp3", Tags{Title: "Hells Bells", Artist: "AC/DC", AlbumArtist: "AC/DC", Album: "Back/In Black", Genre: "Hard Rock", Year: 1980, Track: 1, TrackTotal: 10}, v24)

	flac("Edge Case/Dots/01 dotdot.flac", Tags{Title: "..", Artist: "Edge Case", Album: "Dots", Year: 2001, Track: 1})
	flac("Edge Case/Dot/01 Dot Album.flac", Tags{Title: "Dot Album", Artist: "Edge Case", Album: ".", Year: 2002, Track: 1})

	bjork := Tags{Artist: "Björk", AlbumArtist: "Björk", Album: "Homogenic", Genre: "Electronic", Year: 1997, TrackTotal: 10}
	hunter, joga := bjork, bjork
	hunter.Title, hunter.Track = "Hunter", 1
	joga.Title, joga.Track = "Jóga", 2
	mp3("Björk/Homogenic/01 Hunter.mp3", hunter, v23) // UTF-16 text frames
	flac("Björk/Homogenic/02 Jóga.flac", joga)

	sakamoto := Tags{Artist: "坂本龍一", AlbumArtist: "坂本龍一", Album: "Merry Christmas Mr. Lawrence", Genre: "Soundtrack", Year: 1983, TrackTotal: 19}
	merry, seed2 := sakamoto, sakamoto
	merry.Title, merry.Track = "戦場のメリークリスマス", 1
	seed2.Title, seed2.Track = "The Seed and the Sower", 2
	mp3("坂本龍一/Merry Christmas Mr. Lawrence/01 戦場のメリークリスマス.mp3", merry, v24)
	flac("坂本龍一/Merry Christmas Mr. Lawrence/02 The Seed and the Sower.flac", seed2)

	mp3("Unsorted/only title.mp3", Tags{Title: "Lonely Title"}, v23)
	mp3("Unsorted/no tags.mp3", Tags{}, MP3Options{})
	mp3("Unsorted/empty id3v1.mp3", Tags{}, MP3Options{ID3v1: true})

	intro := Tags{Title: "Intro", Artist: "Duplicate Band", AlbumArtist: "Duplicate Band", Album: "Twice", Genre: "Pop", Year: 2010, Track: 1}
	mp3("Duplicate Band/Twice/01 Intro.mp3", intro, v24)
	mp3("Duplicate Band/Twice/Intro (alternate take).mp3", intro, v24)

	mp3("Legacy Tagger/Old Format/01 Two Point Two.mp3", Tags{Title: "Two Point Two", Artist: "Legacy Tagger", AlbumArtist: "Legacy Tagger", Album: "Old Format", Genre: "Pop", Year: 1998, Track: 1, TrackTotal: 1}, v22)
	mp3("Old Timer/gramophone.mp3", Tags{Title: "Gramophone", Artist: "Old Timer", Album: "Vintage", Genre: "Oldies", Year: 1930, Track: 1}, MP3Options{ID3v1: true})
	return lib
}

func mp3Format(opt MP3Options) string {
	f := FormatMP3
	if opt.ID3v2 != 0 {
		f += fmt.Sprintf("+id3v2.%d", opt.ID3v2)
	}
	if opt.ID3v1 {
		f += "+id3v1"
	}
	return f
}

// coverJPEG is a 2x2 baseline JPEG.
func coverJPEG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{0x1f, 0x3a, 0x93, 0xff})
	img.Set(1, 0, color.RGBA{0x1f, 0x3a, 0x93, 0xff})
	img.Set(0, 1, color.RGBA{0xf0, 0xf0, 0xf0, 0xff})
	img.Set(1, 1, color.RGBA{0x10, 0x10, 0x10, 0xff})
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		panic(err) // encoding to memory does not fail
	}
	return buf.Bytes()
}

// WriteLibrary writes files under dir (created if needed) with mode 0644,
// then gives every file and directory it wrote ModTime. A RelPath that is
// not a local slash path is an error, before anything is written.
func WriteLibrary(dir string, files []LibFile) error {
	for _, f := range files {
		if !filepath.IsLocal(filepath.FromSlash(f.RelPath)) || path.Clean(f.RelPath) != f.RelPath || f.RelPath == "." {
			return fmt.Errorf("write library: %q is not a clean relative path", f.RelPath)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write library: %w", err)
	}
	dirs := map[string]bool{dir: true}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.RelPath))
		addParents(dirs, dir, f.RelPath)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write library: %w", err)
		}
		if err := writeFile(p, f.Data); err != nil {
			return fmt.Errorf("write library: %w", err)
		}
	}
	return touchDirs(dirs)
}

// addParents records the directories between dir and the file rel in it.
func addParents(dirs map[string]bool, dir, rel string) {
	for d := path.Dir(rel); d != "." && d != "/"; d = path.Dir(d) {
		dirs[filepath.Join(dir, filepath.FromSlash(d))] = true
	}
}

// writeFile writes data with mode 0644 (whatever the umask) and ModTime.
func writeFile(p string, data []byte) error {
	if err := os.WriteFile(p, data, 0o644); err != nil {
		return err
	}
	if err := os.Chmod(p, 0o644); err != nil {
		return err
	}
	return os.Chtimes(p, ModTime(), ModTime())
}

// touchDirs sets ModTime on dirs, deepest first, once their contents are
// final (creating entries changes a directory's mtime).
func touchDirs(dirs map[string]bool) error {
	list := make([]string, 0, len(dirs))
	for d := range dirs {
		list = append(list, d)
	}
	slices.SortFunc(list, func(a, b string) int { return len(b) - len(a) })
	for _, d := range list {
		if err := os.Chtimes(d, ModTime(), ModTime()); err != nil {
			return fmt.Errorf("set directory mtime: %w", err)
		}
	}
	return nil
}
