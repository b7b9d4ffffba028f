package tags

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// dsfTestFile is a stereo DSF file with n blocks of sound per channel (0
// for a short file to cut and fuzz) and the ID3v2 tag id3 (if any) at its
// end, where its metadata pointer points.
func dsfTestFile(n int, id3 []byte) []byte {
	le := binary.LittleEndian
	fmtBody := make([]byte, 40)
	for i, v := range []uint32{1, 0, 2, 2, 2822400, 1} {
		le.PutUint32(fmtBody[4*i:], v)
	}
	le.PutUint64(fmtBody[24:], uint64(n*4096*8))
	le.PutUint32(fmtBody[32:], 4096)
	data := make([]byte, 2*n*4096)
	size := 28 + 52 + 12 + len(data)
	b := le.AppendUint64([]byte("DSD "), 28)
	b = le.AppendUint64(b, uint64(size+len(id3)))
	ptr := uint64(0)
	if id3 != nil {
		ptr = uint64(size)
	}
	b = le.AppendUint64(b, ptr)
	b = append(le.AppendUint64(append(b, "fmt "...), 52), fmtBody...)
	b = append(le.AppendUint64(append(b, "data"...), uint64(12+len(data))), data...)
	return append(b, id3...)
}

func TestDSF(t *testing.T) {
	file := dsfTestFile(1, readersTestID3v2("TIT2", "Title", "TPE1", "Artist", "TDRC", "2010"))
	readersTestEqual(t, readersTestRead(t, file), Tags{
		Title: "Title", Artists: []string{"Artist"}, Year: 2010, Format: "dsf", Blocks: []Kind{ID3v24},
	})
	if _, err := readersTestCheck(t, dsfTestFile(1, nil), DefaultLimit); !errors.Is(err, ErrNoTags) {
		t.Errorf("untagged: %v, want ErrNoTags", err)
	}
}

func TestDSFMalformed(t *testing.T) {
	outside := dsfTestFile(1, nil)
	binary.LittleEndian.PutUint64(outside[20:], 1<<40)
	inside := dsfTestFile(1, nil)
	binary.LittleEndian.PutUint64(inside[20:], 100)
	for _, tc := range []struct {
		name string
		file []byte
	}{{"pointer past the end", outside}, {"no tag at the pointer", inside}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readersTestCheck(t, tc.file, DefaultLimit)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Block != "dsf" {
				t.Fatalf("error %v, want a dsf *FormatError", err)
			}
		})
	}
}

// TestDSFSoundNotRead: the tag is read where the pointer says, past the
// sound.
func TestDSFSoundNotRead(t *testing.T) {
	file := dsfTestFile(512, readersTestID3v2("TIT2", "T"))
	got, n, err := ReadLimit(bytes.NewReader(file), int64(len(file)), DefaultLimit)
	if err != nil || got.Title != "T" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if n > 4*window {
		t.Errorf("read %d bytes of a 4 MB file", n)
	}
}

func TestDSFTruncated(t *testing.T) {
	readersTestPrefixes(t, dsfTestFile(0, readersTestID3v2("TIT2", "T", "TPE1", "A")))
}

// TestDSFTools reads the tag mutagen writes to a DSF file.
func TestDSFTools(t *testing.T) {
	file := readersTestMutagen(t, dsfTestFile(2, nil), `
from mutagen.dsf import DSF
from mutagen.id3 import TIT2, TPE1
f = DSF(path)
f.add_tags()
f.tags.add(TIT2(encoding=3, text=["Tïtle"]))
f.tags.add(TPE1(encoding=1, text=["One", "Two"]))
f.save()
`)
	readersTestEqual(t, readersTestRead(t, file), Tags{
		Title: "Tïtle", Artists: []string{"One", "Two"}, Format: "dsf", Blocks: []Kind{ID3v24},
	})
}

func FuzzDSF(f *testing.F) {
	readersTestFuzz(f, dsfTestFile(0, readersTestID3v2("TIT2", "T", "TPE1", "A")), dsfTestFile(0, nil))
}
