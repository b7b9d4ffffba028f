package tags

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// dffTestChunk is a chunk: id, big-endian 8-byte size, body and pad byte.
func dffTestChunk(id string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	c := binary.BigEndian.AppendUint64([]byte(id), uint64(len(b)))
	c = append(c, b...)
	if len(b)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// dffTestFile is a stereo DSDIFF file: the version and properties, then
// chunks.
func dffTestFile(chunks ...[]byte) []byte {
	props := dffTestChunk("PROP", []byte("SND "),
		dffTestChunk("FS  ", binary.BigEndian.AppendUint32(nil, 2822400)),
		dffTestChunk("CHNL", []byte("\x00\x02SLFTSRGT")),
		dffTestChunk("CMPR", []byte("DSD \x0enot compressed")))
	body := append([]byte("DSD "), dffTestChunk("FVER", []byte{1, 5, 0, 0})...)
	body = append(append(body, props...), bytes.Join(chunks, nil)...)
	return append(binary.BigEndian.AppendUint64([]byte("FRM8"), uint64(len(body))), body...)
}

// dffTestText is a DIIN text chunk: a four-byte length, then the text.
func dffTestText(id, s string) []byte {
	return dffTestChunk(id, binary.BigEndian.AppendUint32(nil, uint32(len(s))), []byte(s))
}

func dffTestSound(n int) []byte { return dffTestChunk("DSD ", make([]byte, n)) }

func TestDFF(t *testing.T) {
	id3 := readersTestID3v2("TIT2", "ID3 title", "TALB", "Album")
	diin := dffTestChunk("DIIN", dffTestChunk("EMID", []byte("x")), dffTestText("DITI", "Tïtle"), dffTestText("DIAR", "Artist"))
	for _, tc := range []struct {
		name string
		file []byte
		want Tags
	}{{
		name: "DIIN",
		file: dffTestFile(dffTestSound(9), diin),
		want: Tags{Title: "Tïtle", Artists: []string{"Artist"}, Format: "dff", Blocks: []Kind{AIFFText}},
	}, {
		name: "ID3 wins, DIIN fills the gaps",
		file: dffTestFile(dffTestSound(100), diin, dffTestChunk("ID3 ", id3)),
		want: Tags{Title: "ID3 title", Artists: []string{"Artist"}, Album: "Album", Format: "dff", Blocks: []Kind{ID3v24, AIFFText}},
	}, {
		name: "a text count past its chunk is cut to the chunk",
		file: dffTestFile(dffTestChunk("DIIN", dffTestChunk("DITI", []byte("\x00\x00\x01\x00Title")))),
		want: Tags{Title: "Title", Format: "dff", Blocks: []Kind{AIFFText}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			readersTestEqual(t, readersTestRead(t, tc.file), tc.want)
		})
	}
}

func TestDFFMalformed(t *testing.T) {
	_, err := readersTestCheck(t, dffTestFile(dffTestSound(100))[:100], DefaultLimit)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Block != "dff" {
		t.Fatalf("error %v, want a dff *FormatError", err)
	}
}

// TestDFFSoundNotRead: the sound data before the ID3 chunk is skipped by
// its size.
func TestDFFSoundNotRead(t *testing.T) {
	file := dffTestFile(dffTestSound(4<<20), dffTestChunk("ID3 ", readersTestID3v2("TPE1", "A")))
	got, n, err := ReadLimit(bytes.NewReader(file), int64(len(file)), DefaultLimit)
	if err != nil || len(got.Artists) != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if n > 4*window {
		t.Errorf("read %d bytes of a 4 MB file", n)
	}
}

func TestDFFTruncated(t *testing.T) {
	readersTestPrefixes(t, dffTestFile(dffTestSound(11), dffTestChunk("DIIN", dffTestText("DITI", "T")),
		dffTestChunk("ID3 ", readersTestID3v2("TPE1", "A"))))
}

// TestDFFTools reads the ID3 chunk mutagen writes.
func TestDFFTools(t *testing.T) {
	file := readersTestMutagen(t, dffTestFile(dffTestSound(8192)), `
from mutagen.dsdiff import DSDIFF
from mutagen.id3 import TIT2, TPE1
f = DSDIFF(path)
f.add_tags()
f.tags.add(TIT2(encoding=3, text=["Tïtle"]))
f.tags.add(TPE1(encoding=1, text=["One", "Two"]))
f.save()
`)
	readersTestEqual(t, readersTestRead(t, file), Tags{
		Title: "Tïtle", Artists: []string{"One", "Two"}, Format: "dff", Blocks: []Kind{ID3v24},
	})
}

func FuzzDFF(f *testing.F) {
	readersTestFuzz(f,
		dffTestFile(dffTestSound(3), dffTestChunk("DIIN", dffTestText("DITI", "T"), dffTestText("DIAR", "A"))),
		dffTestFile(dffTestChunk("ID3 ", readersTestID3v2("TALB", "B"))),
	)
}
