package tags

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// riffTestChunk is a chunk: id, little-endian size, body and pad byte.
func riffTestChunk(id string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	c := binary.LittleEndian.AppendUint32([]byte(id), uint32(len(b)))
	c = append(c, b...)
	if len(b)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// riffTestWAV is a WAVE file: a fmt chunk, then chunks.
func riffTestWAV(chunks ...[]byte) []byte {
	fmtChunk := riffTestChunk("fmt ", []byte{1, 0, 1, 0, 0x44, 0xAC, 0, 0, 0x88, 0x58, 1, 0, 2, 0, 16, 0})
	body := append([]byte("WAVE"), fmtChunk...)
	body = append(body, bytes.Join(chunks, nil)...)
	return append(binary.LittleEndian.AppendUint32([]byte("RIFF"), uint32(len(body))), body...)
}

// riffTestInfo is a LIST/INFO chunk of NUL-terminated texts, given as id
// and text pairs.
func riffTestInfo(pairs ...string) []byte {
	body := []byte("INFO")
	for i := 0; i+1 < len(pairs); i += 2 {
		body = append(body, riffTestChunk(pairs[i], []byte(pairs[i+1]+"\x00"))...)
	}
	return riffTestChunk("LIST", body)
}

func riffTestData(n int) []byte { return riffTestChunk("data", make([]byte, n)) }

func TestRIFF(t *testing.T) {
	id3 := readersTestID3v2("TIT2", "ID3 title", "TPE1", "ID3 artist", "TRCK", "2/10")
	info := riffTestInfo("INAM", "Info title", "IART", "Info artist", "IPRD", "Info album",
		"ICRD", "2003-04-05", "IGNR", "Genre", "ITRK", "5", "ICMT", "comment")
	rf64 := riffTestWAV(riffTestChunk("junk", []byte("odd")), riffTestData(9), riffTestInfo("INAM", "T"))
	copy(rf64, "RF64\xFF\xFF\xFF\xFF")
	for _, tc := range []struct {
		name string
		file []byte
		want Tags
	}{{
		name: "INFO",
		file: riffTestWAV(info, riffTestData(100)),
		want: Tags{
			Title: "Info title", Artists: []string{"Info artist"}, Album: "Info album",
			Genres: []string{"Genre"}, Year: 2003, Track: 5, Format: "wav", Blocks: []Kind{RIFFInfo},
		},
	}, {
		name: "INFO in Latin-1, IPRT, odd sizes",
		file: riffTestWAV(riffTestChunk("bext", []byte("x")), riffTestInfo("IPRT", "3", "INAM", "Caf\xe9", "IAR", "x")),
		want: Tags{Title: "Café", Track: 3, Format: "wav", Blocks: []Kind{RIFFInfo}},
	}, {
		name: "id3 chunk after the data",
		file: riffTestWAV(riffTestData(101), riffTestChunk("id3 ", id3)),
		want: Tags{Title: "ID3 title", Artists: []string{"ID3 artist"}, Track: 2, TrackTotal: 10, Format: "wav", Blocks: []Kind{ID3v24}},
	}, {
		name: "ID3 chunk",
		file: riffTestWAV(riffTestChunk("ID3 ", id3), riffTestData(100)),
		want: Tags{Title: "ID3 title", Artists: []string{"ID3 artist"}, Track: 2, TrackTotal: 10, Format: "wav", Blocks: []Kind{ID3v24}},
	}, {
		name: "ID3 wins, INFO fills the gaps",
		file: riffTestWAV(info, riffTestData(100), riffTestChunk("id3 ", id3)),
		want: Tags{
			Title: "ID3 title", Artists: []string{"ID3 artist"}, Album: "Info album", Genres: []string{"Genre"},
			Year: 2003, Track: 2, TrackTotal: 10, Format: "wav", Blocks: []Kind{ID3v24, RIFFInfo},
		},
	}, {
		name: "RF64 walks to the end of the file",
		file: rf64,
		want: Tags{Title: "T", Format: "wav", Blocks: []Kind{RIFFInfo}},
	}, {
		name: "a chunk past the end keeps the chunks before it",
		file: riffTestWAV(riffTestInfo("INAM", "T"), riffTestData(100)[:50]),
		want: Tags{Title: "T", Format: "wav", Blocks: []Kind{RIFFInfo}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			readersTestEqual(t, readersTestRead(t, tc.file), tc.want)
		})
	}
}

func TestRIFFMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"id3 chunk without a tag", riffTestWAV(riffTestChunk("id3 ", []byte("not a tag")))},
		{"chunk over the end", riffTestWAV(riffTestData(100))[:80]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readersTestCheck(t, tc.file, DefaultLimit)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Block != "riff" {
				t.Fatalf("error %v, want a riff *FormatError", err)
			}
		})
	}
	if _, err := readersTestCheck(t, riffTestWAV(riffTestData(10)), DefaultLimit); !errors.Is(err, ErrNoTags) {
		t.Errorf("untagged WAV: %v, want ErrNoTags", err)
	}
}

// TestRIFFDataNotRead: the audio between the tags is skipped by its size.
func TestRIFFDataNotRead(t *testing.T) {
	file := riffTestWAV(riffTestInfo("INAM", "T"), riffTestData(4<<20), riffTestChunk("id3 ", readersTestID3v2("TPE1", "A")))
	got, n, err := ReadLimit(bytes.NewReader(file), int64(len(file)), DefaultLimit)
	if err != nil || got.Title != "T" || len(got.Artists) != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
	if n > 4*window {
		t.Errorf("read %d bytes of a 4 MB file", n)
	}
}

func TestRIFFTruncated(t *testing.T) {
	readersTestPrefixes(t, riffTestWAV(riffTestInfo("INAM", "T", "IART", "A"), riffTestData(11),
		riffTestChunk("id3 ", readersTestID3v2("TALB", "Album"))))
}

// TestRIFFTools reads the LIST/INFO chunk of ffmpeg and the id3 chunk of
// mutagen.
func TestRIFFTools(t *testing.T) {
	meta := []string{"-metadata", "title=Tïtle", "-metadata", "artist=Artist", "-metadata", "album=Album",
		"-metadata", "date=1999", "-metadata", "genre=Genre"}
	want := Tags{
		Title: "Tïtle", Artists: []string{"Artist"}, Album: "Album", Genres: []string{"Genre"},
		Year: 1999, Format: "wav", Blocks: []Kind{RIFFInfo},
	}
	wav := readersTestFFmpeg(t, "wav", meta...)
	readersTestEqual(t, readersTestRead(t, wav), want)

	tagged := readersTestMutagen(t, wav, `
from mutagen.wave import WAVE
from mutagen.id3 import TPE1, TPE2, TRCK
f = WAVE(path)
f.add_tags()
f.tags.add(TPE1(encoding=1, text=["One", "Two"]))
f.tags.add(TPE2(encoding=3, text=["AA"]))
f.tags.add(TRCK(encoding=3, text=["3/4"]))
f.save()
`)
	want.Artists, want.AlbumArtists, want.Track, want.TrackTotal = []string{"One", "Two"}, []string{"AA"}, 3, 4
	want.Blocks = []Kind{ID3v24, RIFFInfo}
	readersTestEqual(t, readersTestRead(t, tagged), want)
}

func FuzzRIFF(f *testing.F) {
	rf64 := riffTestWAV(riffTestChunk("ds64", make([]byte, 28)), riffTestData(3), riffTestInfo("INAM", "T"))
	copy(rf64, "RF64\xFF\xFF\xFF\xFF")
	readersTestFuzz(f,
		riffTestWAV(riffTestInfo("INAM", "T", "IART", "A", "ITRK", "1"), riffTestData(3), riffTestChunk("id3 ", readersTestID3v2("TALB", "B"))),
		rf64,
	)
}
