package tags

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

// apeTestText is a UTF-8 text item.
func apeTestText(key, value string) []byte {
	return apeTestItem(key, 0, []byte(value))
}

// apeTestItem is an item with the given flags (bits 1–2: 0 text, 1 binary,
// 2 external link).
func apeTestItem(key string, flags uint32, value []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(value)))
	b = binary.LittleEndian.AppendUint32(b, flags)
	b = append(append(b, key...), 0)
	return append(b, value...)
}

// apeTestTag is an APEv2 tag of items: a header if asked, the items and
// the footer.
func apeTestTag(header bool, items ...[]byte) []byte {
	body := bytes.Join(items, nil)
	const hasHeader, isHeader = 1 << 31, 1 << 29
	flags := uint32(0)
	if header {
		flags |= hasHeader
	}
	var tag []byte
	if header {
		tag = apeTestFrame(2000, len(body), len(items), flags|isHeader)
	}
	tag = append(tag, body...)
	return append(tag, apeTestFrame(2000, len(body), len(items), flags)...)
}

// apeTestFrame is a header or footer: the size it gives counts the items
// and the footer.
func apeTestFrame(version, itemsLen, count int, flags uint32) []byte {
	b := []byte("APETAGEX")
	for _, v := range []uint32{uint32(version), uint32(itemsLen + 32), uint32(count), flags} {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return append(b, make([]byte, 8)...)
}

// apeTestMP3 is an MPEG audio frame of silence, enough for the file to be
// recognised.
func apeTestMP3() []byte {
	return append([]byte{0xFF, 0xFB, 0x90, 0x64}, make([]byte, 413)...)
}

// apeTestID3v1 is an ID3v1.1 tag.
func apeTestID3v1(title, artist, album, year string, track, genre byte) []byte {
	b := []byte("TAG")
	for _, f := range []struct {
		s string
		n int
	}{{title, 30}, {artist, 30}, {album, 30}, {year, 4}, {"", 28}} {
		b = append(b, f.s...)
		b = append(b, make([]byte, f.n-len(f.s))...)
	}
	return append(b, 0, track, genre)
}

func apeTestConcat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestAPE(t *testing.T) {
	full := []Tags{{
		Title: "Title", Artists: []string{"Artist"}, AlbumArtists: []string{"Album Artist"},
		Album: "Album", Genres: []string{"Genre"}, Year: 2001, Track: 3, TrackTotal: 12,
		Disc: 1, DiscTotal: 2, Compilation: true, Format: "ape", Blocks: []Kind{APEv2},
	}}
	fullItems := [][]byte{
		apeTestText("Title", "Title"), apeTestText("Artist", "Artist"),
		apeTestText("Album Artist", "Album Artist"), apeTestText("Album", "Album"),
		apeTestText("Genre", "Genre"), apeTestText("Year", "2001-05-06"),
		apeTestText("Track", "3/12"), apeTestText("Disc", "1/2"), apeTestText("Compilation", "1"),
	}
	v1 := apeTestTag(false, apeTestText("Title", "Old"))
	binary.LittleEndian.PutUint32(v1[len(v1)-24:], 1000)
	for _, tc := range []struct {
		name string
		file []byte
		want Tags
	}{{
		name: "monkey's audio", file: apeTestConcat([]byte("MAC \x96\x0f"), apeTestTag(false, fullItems...)),
		want: full[0],
	}, {
		name: "with a header", file: apeTestConcat([]byte("MAC \x96\x0f"), apeTestTag(true, fullItems...)),
		want: full[0],
	}, {
		name: "keys in any case",
		file: apeTestConcat([]byte("MAC "), apeTestTag(false,
			apeTestText("TITLE", "T"), apeTestText("album artist", "AA"), apeTestText("YEAR", "1999"),
			apeTestText("TRACK", "07"), apeTestText("disc", "2"), apeTestText("Unknown Key", "x"))),
		want: Tags{Title: "T", AlbumArtists: []string{"AA"}, Year: 1999, Track: 7, Disc: 2, Format: "ape", Blocks: []Kind{APEv2}},
	}, {
		name: "NUL-separated values",
		file: apeTestConcat([]byte("wvpk"), apeTestTag(false,
			apeTestText("Artist", "A feat. B"), apeTestText("Artists", "A\x00B"),
			apeTestText("Album Artist", "X\x00Y\x00"), apeTestText("Genre", "Rock\x00Live"))),
		want: Tags{
			Artists: []string{"A", "B"}, AlbumArtists: []string{"X", "Y"},
			Genres: []string{"Rock", "Live"}, Format: "wavpack", Blocks: []Kind{APEv2},
		},
	}, {
		name: "binary and external items skipped",
		file: apeTestConcat([]byte("MPCK"), apeTestTag(false,
			apeTestItem("Cover Art (Front)", 1<<1, []byte("cover.jpg\x00\xFF\xD8\xFF")),
			apeTestItem("Artist", 2<<1, []byte("http://example.com/artist")),
			apeTestText("Title", "T"))),
		want: Tags{Title: "T", Format: "musepack", Blocks: []Kind{APEv2}},
	}, {
		name: "a broken item keeps the items before it",
		file: apeTestConcat([]byte("TTA1"), apeTestTag(false,
			apeTestText("Title", "T"), apeTestItem("Album", 0, []byte("A")), apeTestText("\x01bad", "x"))),
		want: Tags{Title: "T", Album: "A", Format: "tta", Blocks: []Kind{APEv2}},
	}, {
		name: "a value size past the tag keeps the items before it",
		file: apeTestConcat([]byte("OFR "), apeTestTag(false,
			apeTestText("Title", "T"), apeTestItem("Album", 0, []byte("A"))[4:])),
		want: Tags{Title: "T", Format: "optimfrog", Blocks: []Kind{APEv2}},
	}, {
		name: "APEv1", file: apeTestConcat([]byte("MAC "), v1),
		want: Tags{Title: "Old", Format: "ape", Blocks: []Kind{APEv2}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			readersTestEqual(t, readersTestRead(t, tc.file), tc.want)
		})
	}
}

func TestAPEMalformed(t *testing.T) {
	tag := apeTestTag(false, apeTestText("Title", "T"))
	before := bytes.Clone(tag)
	binary.LittleEndian.PutUint32(before[len(before)-20:], 1<<20)
	version := bytes.Clone(tag)
	binary.LittleEndian.PutUint32(version[len(version)-24:], 3000)
	headerBefore := apeTestTag(true, apeTestText("Title", "T"))[32:]
	for _, tc := range []struct {
		name string
		tag  []byte
	}{
		{"size before the start of the file", before},
		{"header before the start of the file", headerBefore},
		{"unknown version", version},
		{"no readable item", apeTestTag(false, apeTestText("T\x00itle", "T"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readersTestCheck(t, apeTestConcat([]byte("MAC "), tc.tag), DefaultLimit)
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Block != "ape" {
				t.Fatalf("error %v, want an ape *FormatError", err)
			}
		})
	}
}

// TestAPEOnMP3 merges the three blocks an MP3 may carry: ID3v2 wins the
// fields it has, APEv2 fills the rest, ID3v1 comes last.
func TestAPEOnMP3(t *testing.T) {
	id3 := readersTestID3v2("TIT2", "ID3 title", "TPE1", "ID3 artist")
	ape := apeTestTag(true, apeTestText("Title", "APE title"), apeTestText("Album", "APE album"), apeTestText("Genre", "Jazz"))
	v1 := apeTestID3v1("v1 title", "v1 artist", "v1 album", "1999", 5, 17)
	lyrics := []byte("LYRICSBEGININD0000211EAL00009Some song")
	lyrics = fmt.Appendf(lyrics, "%06dLYRICS200", len(lyrics))
	want := Tags{
		Title: "ID3 title", Artists: []string{"ID3 artist"}, Album: "APE album", Genres: []string{"Jazz"},
		Year: 1999, Track: 5, Format: "mpeg", Blocks: []Kind{ID3v24, APEv2, ID3v1},
	}
	for _, tc := range []struct {
		name string
		file []byte
	}{
		{"APE before ID3v1", apeTestConcat(id3, apeTestMP3(), ape, v1)},
		{"APE, Lyrics3v2, ID3v1", apeTestConcat(id3, apeTestMP3(), ape, lyrics, v1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			readersTestEqual(t, readersTestRead(t, tc.file), want)
			readersTestPrefixes(t, tc.file)
		})
	}
	t.Run("APE at the very end", func(t *testing.T) {
		got := readersTestRead(t, apeTestConcat(apeTestMP3(), ape))
		readersTestEqual(t, got, Tags{Title: "APE title", Album: "APE album", Genres: []string{"Jazz"}, Format: "mpeg", Blocks: []Kind{APEv2}})
	})
}

// TestAPECoverNotRead: a 2 MB cover before the text items is skipped by
// its size, not read.
func TestAPECoverNotRead(t *testing.T) {
	cover := apeTestItem("Cover Art (Front)", 1<<1, bytes.Repeat([]byte{0xAB}, 2<<20))
	file := apeTestConcat([]byte("MAC "), make([]byte, 1<<20), apeTestTag(false, apeTestText("Artist", "A"), cover, apeTestText("Title", "T")))
	got, n, err := ReadLimit(bytes.NewReader(file), int64(len(file)), DefaultLimit)
	if err != nil || got.Title != "T" || len(got.Artists) != 1 {
		t.Fatalf("got %+v, %v", got, err)
	}
	t.Logf("read %d of %d bytes", n, len(file))
	if n > 4*window {
		t.Errorf("read %d bytes of a 3 MB file", n)
	}
}

func TestAPETruncated(t *testing.T) {
	readersTestPrefixes(t, apeTestConcat([]byte("MAC "), apeTestTag(true, apeTestText("Title", "T"), apeTestText("Artist", "A\x00B"))))
}

// TestAPETools reads the APEv2 tags of ffmpeg's WavPack and TTA muxers and
// of mutagen.
func TestAPETools(t *testing.T) {
	meta := []string{"-metadata", "title=Tïtle", "-metadata", "artist=Artist", "-metadata", "album=Album", "-metadata", "track=4/9"}
	want := func(format string) Tags {
		return Tags{Title: "Tïtle", Artists: []string{"Artist"}, Album: "Album", Track: 4, TrackTotal: 9, Format: format, Blocks: []Kind{APEv2}}
	}
	t.Run("wavpack", func(t *testing.T) {
		readersTestEqual(t, readersTestRead(t, readersTestFFmpeg(t, "wv", meta...)), want("wavpack"))
	})
	t.Run("tta", func(t *testing.T) {
		readersTestEqual(t, readersTestRead(t, readersTestFFmpeg(t, "tta", meta...)), want("tta"))
	})
	t.Run("mutagen on mp3", func(t *testing.T) {
		file := readersTestMutagen(t, apeTestMP3(), `
from mutagen.apev2 import APEv2
tag = APEv2()
tag["Title"] = "Tïtle"
tag["Artist"] = ["One", "Two"]
tag["Album"] = "Album"
tag["Track"] = "4/9"
tag["Cover Art (Front)"] = b"c.jpg\x00" + bytes(100000)
tag.save(path)
`)
		w := want("mpeg")
		w.Artists = []string{"One", "Two"}
		readersTestEqual(t, readersTestRead(t, file), w)
	})
}

func FuzzAPE(f *testing.F) {
	readersTestFuzz(f,
		apeTestConcat([]byte("MAC "), apeTestTag(true, apeTestText("Title", "T"), apeTestItem("Cover Art (Front)", 2, []byte("x\x00y")), apeTestText("Artist", "A\x00B"))),
		apeTestConcat(apeTestMP3(), apeTestTag(false, apeTestText("Album", "A")), apeTestID3v1("t", "a", "b", "2000", 1, 1)),
	)
}
