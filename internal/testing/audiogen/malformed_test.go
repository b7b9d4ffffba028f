package audiogen

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/musicfs/musicfs/modules/index/tags"
)

func malformedByName(t *testing.T) map[string]MalformedFile {
	t.Helper()
	m := map[string]MalformedFile{}
	for _, f := range Malformed() {
		if _, dup := m[f.Name]; dup {
			t.Fatalf("duplicate name %s", f.Name)
		}
		if f.Why == "" || strings.Contains(f.Name, "/") {
			t.Errorf("%s: bad name or empty Why", f.Name)
		}
		m[f.Name] = f
	}
	return m
}

func TestMalformedDeterministic(t *testing.T) {
	a, b := Malformed(), Malformed()
	for i := range a {
		if a[i].Name != b[i].Name || !bytes.Equal(a[i].Data, b[i].Data) {
			t.Errorf("%s differs between calls", a[i].Name)
		}
	}
}

func TestMalformedShapes(t *testing.T) {
	files := malformedByName(t)
	check := map[string]func(t *testing.T, d []byte){
		"empty.mp3":  func(t *testing.T, d []byte) { wantLen(t, d, 0) },
		"empty.flac": func(t *testing.T, d []byte) { wantLen(t, d, 0) },
		"truncated-vorbis-comment.flac": func(t *testing.T, d []byte) {
			// STREAMINFO complete, then a VORBIS_COMMENT header whose body is cut.
			if string(d[:4]) != "fLaC" || d[42]&0x7F != 4 {
				t.Fatalf("no VORBIS_COMMENT after STREAMINFO")
			}
			n := int(d[43])<<16 | int(d[44])<<8 | int(d[45])
			if rest := len(d) - 46; rest <= 0 || rest >= n {
				t.Errorf("%d bytes of a %d-byte block: not cut inside it", rest, n)
			}
		},
		"huge-metadata-block.flac": func(t *testing.T, d []byte) {
			wantLen(t, d, 200)
			if string(d[:4]) != "fLaC" || d[42]&0x7F != 4 || !bytes.Equal(d[43:46], []byte{0xFF, 0xFF, 0xFF}) {
				t.Errorf("block after STREAMINFO: % x", d[42:46])
			}
		},
		"huge-id3v2-tag.mp3": func(t *testing.T, d []byte) {
			if string(d[:3]) != "ID3" || syncsafe(d[6:10]) < 256<<20-1 {
				t.Errorf("ID3v2 size %d", syncsafe(d[6:10]))
			}
			if len(d) > 1<<20 {
				t.Errorf("file is %d bytes: the claim must be a lie", len(d))
			}
		},
		"huge-id3v24-frame.mp3": func(t *testing.T, d []byte) {
			if string(d[:3]) != "ID3" || d[3] != 4 || syncsafe(d[6:10]) > len(d) {
				t.Fatalf("header % x", d[:10])
			}
			if n := syncsafe(d[14:18]); n < 256<<20-1 {
				t.Errorf("first frame %q claims only %d bytes", d[10:14], n)
			}
		},
		"garbled-encoding.mp3": func(t *testing.T, d []byte) {
			_, _, frames := walkID3v2(t, d)
			if len(frames) == 0 || frames[0].body[0] <= 3 {
				t.Errorf("first frame encoding byte is valid")
			}
		},
		"garbage.m4a":  wantNoMagic,
		"garbage.opus": wantNoMagic,
		"garbage.ogg": func(t *testing.T, d []byte) {
			if !bytes.HasPrefix(d, []byte("OggS")) || len(d) < 1024 {
				t.Errorf("want OggS followed by garbage")
			}
		},
		"random.wav":  wantNoMagic,
		"random.aiff": wantNoMagic,
		"huge-atom.m4a": func(t *testing.T, d []byte) {
			if string(d[4:8]) != "ftyp" || !bytes.Contains(d, []byte{0xFF, 0xFF, 0xFF, 0xFF, 'm', 'o', 'o', 'v'}) {
				t.Errorf("want ftyp and a moov atom of size 0xFFFFFFFF")
			}
		},
		"invalid-utf8.flac": func(t *testing.T, d []byte) {
			fi := readFLAC(t, d) // a valid container: every CRC and the MD5 hold
			if fi.md5 != fi.pcmMD5 || utf8.ValidString(strings.Join(fi.comments, "")) {
				t.Errorf("want valid FLAC with invalid UTF-8 comments: %q", fi.comments)
			}
		},
		"invalid-utf8.mp3": func(t *testing.T, d []byte) {
			_, size, frames := walkID3v2(t, d)
			if d[3] != 4 || frames[0].body[0] != 3 || utf8.Valid(frames[0].body[1:]) {
				t.Errorf("want an ID3v2.4 UTF-8 frame holding invalid UTF-8")
			}
			mp3Frames(t, d, 10+size, len(d))
		},
		"latin1-id3v1.mp3": func(t *testing.T, d []byte) {
			v1 := d[len(d)-128:]
			if string(v1[:3]) != "TAG" || !bytes.Contains(v1, []byte("Bj\xf6rk")) {
				t.Errorf("want an ID3v1 tag with Latin-1 Björk")
			}
			mp3Frames(t, d, 0, len(d)-128)
		},
		"truncated-id3v2.mp3": func(t *testing.T, d []byte) {
			if string(d[:3]) != "ID3" || syncsafe(d[6:10])+10 <= len(d) {
				t.Errorf("tag of %d bytes in a %d-byte file is not cut", syncsafe(d[6:10]), len(d))
			}
		},
	}
	for name, f := range files {
		t.Run(name, func(t *testing.T) {
			c, ok := check[name]
			if !ok {
				t.Fatalf("no shape check for %s", name)
			}
			c(t, f.Data)
		})
	}
	for name := range check {
		if _, ok := files[name]; !ok {
			t.Errorf("Malformed() lacks %s", name)
		}
	}
}

func wantLen(t *testing.T, d []byte, n int) {
	t.Helper()
	if len(d) != n {
		t.Errorf("%d bytes, want %d", len(d), n)
	}
}

func wantNoMagic(t *testing.T, d []byte) {
	t.Helper()
	if len(d) < 1024 {
		t.Errorf("only %d bytes of garbage", len(d))
	}
	for _, m := range []string{"ID3", "fLaC", "OggS", "RIFF", "FORM", "TAG"} {
		if bytes.HasPrefix(d, []byte(m)) {
			t.Errorf("garbage starts with %q", m)
		}
	}
	if string(d[4:8]) == "ftyp" {
		t.Errorf("garbage looks like MP4")
	}
}

// TestMalformedTagReader runs our tag reader, the one the scanner uses, on
// every malformed file: it must return quickly (a size field claiming
// 256 MiB must not be believed), without panicking, and with one of the
// results Read documents. What it makes of each file is only logged.
func TestMalformedTagReader(t *testing.T) {
	for _, f := range Malformed() {
		start := time.Now()
		got, n, panicked, err := readTagsRecovering(f.Data)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: tags.ReadLimit took %v", f.Name, d)
		}
		var fe *tags.FormatError
		switch {
		case panicked != "":
			t.Errorf("%s: tags.ReadLimit panicked: %s", f.Name, panicked)
		case err != nil && !errors.Is(err, tags.ErrNoTags) && !errors.Is(err, tags.ErrUnknownFormat) &&
			!errors.Is(err, tags.ErrNoReader) && !errors.As(err, &fe):
			t.Errorf("%s: tags.ReadLimit = %v, not a result Read documents for a readable file", f.Name, err)
		}
		t.Logf("%-30s read %6d of %6d bytes: %v format=%q blocks=%v title=%q artists=%q",
			f.Name, n, len(f.Data), err, got.Format, got.Blocks, got.Title, got.Artists)
	}
}

// readTagsRecovering is tags.ReadLimit with any panic caught and returned,
// with its stack, as panicked.
func readTagsRecovering(data []byte) (got tags.Tags, n int64, panicked string, err error) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprintf("%v\n%s", r, debug.Stack())
		}
	}()
	got, n, err = tags.ReadLimit(bytes.NewReader(data), int64(len(data)), tags.DefaultLimit)
	return got, n, "", err
}

func TestMalformedValidContainersDecode(t *testing.T) {
	files := malformedByName(t)
	for _, name := range []string{"invalid-utf8.flac", "invalid-utf8.mp3", "latin1-id3v1.mp3", "garbled-encoding.mp3"} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(p, files[name].Data, 0o644); err != nil {
				t.Fatal(err)
			}
			ffmpegNull(t, p)
		})
	}
}

func TestMalformedLibrary(t *testing.T) {
	lib := MalformedLibrary()
	if len(lib) != len(Malformed()) {
		t.Fatalf("%d files, want %d", len(lib), len(Malformed()))
	}
	for _, f := range lib {
		if !strings.HasPrefix(f.RelPath, "Malformed/") || f.Format != FormatMalformed {
			t.Errorf("%s: format %q", f.RelPath, f.Format)
		}
	}
}
