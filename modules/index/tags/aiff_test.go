package tags

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// aiffTestChunk is a chunk: id, big-endian size, body and pad byte.
func aiffTestChunk(id string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	c := binary.BigEndian.AppendUint32([]byte(id), uint32(len(b)))
	c = append(c, b...)
	if len(b)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// aiffTestFile is a FORM of the given type (AIFF or AIFC): a COMM chunk,
// then chunks.
func aiffTestFile(form string, chunks ...[]byte) []byte {
	body := append([]byte(form), aiffTestChunk("COMM", make([]byte, 18))...)
	body = append(body, bytes.Join(chunks, nil)...)
	return append(binary.BigEndian.AppendUint32([]byte("FORM"), uint32(len(body))), body...)
}

func aiffTestSound(n int) []byte { return aiffTestChunk("SSND", make([]byte, n)) }

func TestAIFF(t *testing.T) {
	id3 := readersTestID3v2("TIT2", "ID3 title", "TALB", "Album")
	for _, tc := range []struct {
		name string
		file []byte
		want Tags
	}{{
		name: "NAME and AUTH",
		file: aiffTestFile("AIFF", aiffTestChunk("NAME", []byte("Tïtle")), aiffTestChunk("AUTH", []byte("Art\xefst")), aiffTestSound(9)),
		want: Tags{Title: "Tïtle", Artists: []string{"Artïst"}, Format: "aiff", Blocks: []Kind{AIFFText}},
	}, {
		name: "ID3 chunk after the sound",
		file: aiffTestFile("AIFC", aiffTestSound(100), aiffTestChunk("ID3 ", id3)),
		want: Tags{Title: "ID3 title", Album: "Album", Format: "aiff", Blocks: []Kind{ID3v24}},
	}, {
		name: "id3 chunk wins, NAME and AUTH fill the gaps",
		file: aiffTestFile("AIFF", aiffTestChunk("NAME", []byte("Name\x00")), aiffTestChunk("AUTH", []byte("Author")),
			aiffTestChunk("ANNO", []byte("note")), aiffTestSound(100), aiffTestChunk("id3 ", id3)),
		want: Tags{Title: "ID3 title", Artists: []string{"Author"}, Album: "Album", Format: "aiff", Blocks: []Kind{ID3v24, AIFFText}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			readersTestEqual(t, readersTestRead(t, tc.file), tc.want)
		})
	}
}

func TestAIFFMalformed(t *testing.T) {
	_, err := readersTestCheck(t, aiffTestFile("AIFF", aiffTestChunk("ID3 ", []byte("ID3 garbage"))), DefaultLimit)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Block != "aiff" {
		t.Fatalf("error %v, want an aiff *FormatError", err)
	}
}

// TestAIFFSoundNotRead: the sound data before the ID3 chunk is skipped by
// its size.
func TestAIFFSoundNotRead(t *testing.T) {
	file := aiffTestFile("AIFF", aiffTestSound(4<<20), aiffTestChunk("ID3 ", readersTestID3v2("TPE1", "A")))
	got, n, err := ReadLimit(bytes.NewReader(file), int64(len(file)), DefaultLimit)
	if err != nil || len(got.Artists) != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if n > 4*window {
		t.Errorf("read %d bytes of a 4 MB file", n)
	}
}

func TestAIFFTruncated(t *testing.T) {
	readersTestPrefixes(t, aiffTestFile("AIFC", aiffTestChunk("NAME", []byte("T")), aiffTestSound(11),
		aiffTestChunk("ID3 ", readersTestID3v2("TPE1", "A"))))
}

// TestAIFFTools reads ffmpeg's NAME and ID3 chunks and mutagen's ID3 chunk.
func TestAIFFTools(t *testing.T) {
	file := readersTestFFmpeg(t, "aiff", "-metadata", "title=Tïtle", "-metadata", "artist=Artist",
		"-metadata", "album=Album", "-write_id3v2", "1")
	want := Tags{Title: "Tïtle", Artists: []string{"Artist"}, Album: "Album", Format: "aiff", Blocks: []Kind{ID3v24, AIFFText}}
	readersTestEqual(t, readersTestRead(t, file), want)

	tagged := readersTestMutagen(t, file, `
from mutagen.aiff import AIFF
from mutagen.id3 import TCON
f = AIFF(path)
f.tags.add(TCON(encoding=3, text=["Rock", "Live"]))
f.save()
`)
	want.Genres = []string{"Rock", "Live"}
	readersTestEqual(t, readersTestRead(t, tagged), want)
}

func FuzzAIFF(f *testing.F) {
	readersTestFuzz(f,
		aiffTestFile("AIFF", aiffTestChunk("NAME", []byte("T")), aiffTestChunk("AUTH", []byte("A")), aiffTestSound(3)),
		aiffTestFile("AIFC", aiffTestSound(4), aiffTestChunk("ID3 ", readersTestID3v2("TALB", "B"))),
	)
}
