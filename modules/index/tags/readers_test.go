package tags

// Helpers shared by the tests of the format readers.

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/internal/testing/tagcorpus"
)

// readersTestID3v2 builds an ID3v2.4 tag of UTF-8 text frames, given as
// frame id and value pairs.
func readersTestID3v2(frames ...string) []byte {
	var body []byte
	for i := 0; i+1 < len(frames); i += 2 {
		data := append([]byte{3}, frames[i+1]...)
		body = append(body, frames[i]...)
		body = append(body, readersTestSyncsafe(len(data))...)
		body = append(body, 0, 0)
		body = append(body, data...)
	}
	tag := append([]byte("ID3\x04\x00\x00"), readersTestSyncsafe(len(body))...)
	return append(tag, body...)
}

func readersTestSyncsafe(n int) []byte {
	return []byte{byte(n >> 21 & 0x7F), byte(n >> 14 & 0x7F), byte(n >> 7 & 0x7F), byte(n & 0x7F)}
}

// readersTestCheck reads data as a whole file and checks what any input
// must give: no error but those Read documents, some block when there is
// no error, no more bytes read than the limit, and text that is valid UTF-8.
func readersTestCheck(t testing.TB, data []byte, limit int64) (Tags, error) {
	t.Helper()
	tags, n, err := ReadLimit(bytes.NewReader(data), int64(len(data)), limit)
	var fe *FormatError
	if err != nil && !errors.As(err, &fe) && !errors.Is(err, ErrNoTags) &&
		!errors.Is(err, ErrUnknownFormat) && !errors.Is(err, ErrNoReader) && !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %T %v", err, err)
	}
	if n > limit {
		t.Fatalf("read %d bytes, limit %d", n, limit)
	}
	if err == nil && len(tags.Blocks) == 0 {
		t.Fatal("no error and no blocks")
	}
	for _, s := range append(append(append([]string{tags.Title, tags.Album}, tags.Artists...), tags.AlbumArtists...), tags.Genres...) {
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 %q", s)
		}
	}
	return tags, err
}

// readersTestRead reads a valid file and fails the test on any error.
func readersTestRead(t *testing.T, data []byte) Tags {
	t.Helper()
	tags, err := readersTestCheck(t, data, DefaultLimit)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return tags
}

// readersTestEqual fails the test unless got is want.
func readersTestEqual(t *testing.T, got, want Tags) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// readersTestPrefixes reads every prefix of a valid file: a file cut off
// anywhere is broken or untagged, never a panic or another error.
func readersTestPrefixes(t *testing.T, data []byte) {
	t.Helper()
	for n := range len(data) {
		if _, err := readersTestCheck(t, data[:n], DefaultLimit); errors.Is(err, ErrTooLarge) || errors.Is(err, ErrNoReader) {
			t.Fatalf("prefix of %d of %d bytes: %v", n, len(data), err)
		}
	}
}

// readersTestFuzz fuzzes Read with whole files, starting from seeds.
func readersTestFuzz(f *testing.F, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		readersTestCheck(t, data, DefaultLimit)
		// A small limit must stop the reader, not be exceeded.
		readersTestCheck(t, data, int64(len(data)/2))
	})
}

// readersTestFFmpeg has ffmpeg encode a short sine with args into a file
// of the given extension and returns it (skipped without ffmpeg, outside
// CI).
func readersTestFFmpeg(t *testing.T, ext string, args ...string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out."+ext)
	args = append([]string{"-loglevel", "error", "-f", "lavfi", "-i", "sine=d=0.1"}, args...)
	readersTestTool(t, "ffmpeg", append(args, out)...)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readersTestMutagen runs a Python script on a copy of data with mutagen
// (Debian's python3-mutagen), which finds the file's path in the variable
// path, and returns the file it leaves.
func readersTestMutagen(t *testing.T, data []byte, script string) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	tagcorpus.RequireMutagen(t)
	readersTestTool(t, tagcorpus.Python, "-c", "import sys; path = sys.argv[1]\n"+script, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readersTestTool(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(mounttest.RequireTool(t, name), args...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, b)
	}
}

// sparseFile is a file of head, gap zero bytes, then tail, without the
// memory for the gap.
type sparseFile struct {
	head []byte
	gap  int64
	tail []byte
}

func (s *sparseFile) size() int64 { return int64(len(s.head)) + s.gap + int64(len(s.tail)) }

func (s *sparseFile) ReadAt(p []byte, off int64) (int, error) {
	head, tail := int64(len(s.head)), int64(len(s.head))+s.gap
	for i := range p {
		switch pos := off + int64(i); {
		case pos < head:
			p[i] = s.head[pos]
		case pos < tail:
			p[i] = 0
		case pos < s.size():
			p[i] = s.tail[pos-tail]
		default:
			return i, io.EOF
		}
	}
	return len(p), nil
}
