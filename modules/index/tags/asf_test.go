package tags

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unicode/utf16"
)

// asfTestString is a NUL-terminated UTF-16LE string.
func asfTestString(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s + "\x00")) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// asfTestObject is an object: its GUID, size and body.
func asfTestObject(guid [16]byte, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return append(binary.LittleEndian.AppendUint64(guid[:], uint64(24+len(b))), b...)
}

// asfTestFile is a Header Object holding objects, then a Data Object of
// silence.
func asfTestFile(objects ...[]byte) []byte {
	body := bytes.Join(objects, nil)
	h := binary.LittleEndian.AppendUint64(bytes.Clone(asfHeaderGUID[:]), uint64(30+len(body)))
	h = binary.LittleEndian.AppendUint32(h, uint32(len(objects)))
	h = append(append(h, 1, 2), body...)
	return append(h, asfTestObject(asfGUID("75B22636-668E-11CF-A6D9-00AA0062CE6C"), make([]byte, 4096))...)
}

// asfTestContent is a Content Description Object.
func asfTestContent(title, author string) []byte {
	t, a := asfTestString(title), asfTestString(author)
	var b []byte
	for _, n := range []int{len(t), len(a), 0, 0, 0} {
		b = binary.LittleEndian.AppendUint16(b, uint16(n))
	}
	return asfTestObject(asfContentDescGUID, b, t, a)
}

// asfTestAttr is an attribute: name, data type and value.
type asfTestAttr struct {
	name  string
	typ   uint16
	value []byte
}

func asfTestText(name, value string) asfTestAttr { return asfTestAttr{name, 0, asfTestString(value)} }

func asfTestNumber(name string, typ uint16, n uint64, size int) asfTestAttr {
	return asfTestAttr{name, typ, binary.LittleEndian.AppendUint64(nil, n)[:size]}
}

// asfTestExtended is an Extended Content Description Object.
func asfTestExtended(attrs ...asfTestAttr) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(len(attrs)))
	for _, a := range attrs {
		name := asfTestString(a.name)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
		b = append(b, name...)
		b = binary.LittleEndian.AppendUint16(b, a.typ)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(a.value)))
		b = append(b, a.value...)
	}
	return asfTestObject(asfExtContentDescGUID, b)
}

// asfTestMetadata is a Metadata (or Metadata Library) Object.
func asfTestMetadata(guid [16]byte, attrs ...asfTestAttr) []byte {
	b := binary.LittleEndian.AppendUint16(nil, uint16(len(attrs)))
	for _, a := range attrs {
		name := asfTestString(a.name)
		b = append(b, 0, 0, 1, 0)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(name)))
		b = binary.LittleEndian.AppendUint16(b, a.typ)
		b = binary.LittleEndian.AppendUint32(b, uint32(len(a.value)))
		b = append(append(b, name...), a.value...)
	}
	return asfTestObject(guid, b)
}

// asfTestExtension is a Header Extension Object holding objects.
func asfTestExtension(objects ...[]byte) []byte {
	body := bytes.Join(objects, nil)
	fields := append(make([]byte, 16), 6, 0)
	return asfTestObject(asfHeaderExtGUID, fields, binary.LittleEndian.AppendUint32(nil, uint32(len(body))), body)
}

func TestASF(t *testing.T) {
	for _, tc := range []struct {
		name string
		file []byte
		want Tags
	}{{
		name: "content and extended content",
		file: asfTestFile(
			asfTestContent("Title", "Artist"),
			asfTestExtended(
				asfTestText("WM/AlbumTitle", "Album"), asfTestText("WM/AlbumArtist", "Album Artist"),
				asfTestText("WM/Year", "2004"), asfTestNumber("WM/TrackNumber", 3, 7, 4),
				asfTestText("WM/PartOfSet", "1/2"), asfTestText("WM/Genre", "Jazz"),
				asfTestNumber("WM/IsCompilation", 2, 1, 4),
				asfTestAttr{"WM/Picture", 1, make([]byte, 1000)},
				asfTestText("WM/Composer", "Nobody"),
			)),
		want: Tags{
			Title: "Title", Artists: []string{"Artist"}, AlbumArtists: []string{"Album Artist"},
			Album: "Album", Genres: []string{"Jazz"}, Year: 2004, Track: 7, Disc: 1, DiscTotal: 2,
			Compilation: true, Format: "asf", Blocks: []Kind{ASF},
		},
	}, {
		name: "repeated attributes are several values",
		file: asfTestFile(asfTestExtended(
			asfTestText("WM/Genre", "Rock"), asfTestText("WM/Genre", "Live"),
			asfTestText("WM/AlbumArtist", "A"), asfTestText("WM/AlbumArtist", "B"),
			asfTestText("Author", "X"), asfTestText("WM/ARTISTS", "X"), asfTestText("WM/ARTISTS", "Y"),
		)),
		want: Tags{
			Artists: []string{"X", "Y"}, AlbumArtists: []string{"A", "B"}, Genres: []string{"Rock", "Live"},
			Format: "asf", Blocks: []Kind{ASF},
		},
	}, {
		name: "WM/Track and WM/GenreID as fallbacks",
		file: asfTestFile(asfTestExtended(
			asfTestNumber("WM/Track", 3, 4, 4), asfTestText("WM/GenreID", "(13)"),
			asfTestNumber("WM/OriginalReleaseYear", 5, 1977, 2),
		)),
		want: Tags{Genres: []string{"Pop"}, Year: 1977, Track: 5, Format: "asf", Blocks: []Kind{ASF}},
	}, {
		name: "WM/TrackNumber and WM/Genre win over the fallbacks",
		file: asfTestFile(asfTestExtended(
			asfTestNumber("WM/Track", 3, 4, 4), asfTestText("WM/GenreID", "(13)"),
			asfTestText("WM/TrackNumber", "9"), asfTestText("WM/Genre", "Ska"),
		)),
		want: Tags{Genres: []string{"Ska"}, Track: 9, Format: "asf", Blocks: []Kind{ASF}},
	}, {
		name: "metadata objects in the header extension",
		file: asfTestFile(
			asfTestContent("Title", ""),
			asfTestExtension(
				asfTestMetadata(asfMetadataGUID, asfTestNumber("WM/IsCompilation", 2, 1, 2)),
				asfTestMetadata(asfMetadataLibGUID,
					asfTestAttr{"WM/Picture", 1, make([]byte, 70000)},
					asfTestText("WM/AlbumArtist", "AA1"), asfTestText("WM/AlbumArtist", "AA2"),
					asfTestNumber("WM/TrackNumber", 4, 12, 8),
					asfTestAttr{"WM/MediaClassPrimaryID", 6, make([]byte, 16)},
				),
			)),
		want: Tags{
			Title: "Title", AlbumArtists: []string{"AA1", "AA2"}, Track: 12, Compilation: true,
			Format: "asf", Blocks: []Kind{ASF},
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			readersTestEqual(t, readersTestRead(t, tc.file), tc.want)
		})
	}
}

// TestASFBroken: a broken object ends the header, keeping what came
// before it.
func TestASFBroken(t *testing.T) {
	content := asfTestContent("Title", "Artist")
	bad := asfTestExtended(asfTestText("WM/AlbumTitle", "Album"))
	binary.LittleEndian.PutUint64(bad[16:], 1<<40)
	got := readersTestRead(t, asfTestFile(content, bad))
	readersTestEqual(t, got, Tags{Title: "Title", Artists: []string{"Artist"}, Format: "asf", Blocks: []Kind{ASF}})

	// A descriptor count above what the object holds.
	short := asfTestExtended(asfTestText("WM/AlbumTitle", "Album"))
	binary.LittleEndian.PutUint16(short[24:], 100)
	got = readersTestRead(t, asfTestFile(short))
	readersTestEqual(t, got, Tags{Album: "Album", Format: "asf", Blocks: []Kind{ASF}})
}

// TestASFPictureNotRead: a 2 MB picture in the Metadata Library is skipped
// by its size.
func TestASFPictureNotRead(t *testing.T) {
	file := asfTestFile(asfTestExtension(asfTestMetadata(asfMetadataLibGUID,
		asfTestAttr{"WM/Picture", 1, make([]byte, 2<<20)}, asfTestText("WM/AlbumTitle", "Album"))))
	got, n, err := ReadLimit(bytes.NewReader(file), int64(len(file)), DefaultLimit)
	if err != nil || got.Album != "Album" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if n > 4*window {
		t.Errorf("read %d bytes of a 2 MB header", n)
	}
}

func TestASFTruncated(t *testing.T) {
	readersTestPrefixes(t, asfTestFile(
		asfTestContent("T", "A"),
		asfTestExtended(asfTestText("WM/AlbumTitle", "Album"), asfTestNumber("WM/TrackNumber", 3, 2, 4)),
		asfTestExtension(asfTestMetadata(asfMetadataLibGUID, asfTestText("WM/Genre", "G"))),
	)[:2000])
}

// TestASFTools reads WMA files written by ffmpeg and tagged by mutagen.
func TestASFTools(t *testing.T) {
	wma := readersTestFFmpeg(t, "wma", "-metadata", "title=Tïtle", "-metadata", "artist=Artist",
		"-metadata", "album=Album", "-metadata", "album_artist=AA", "-metadata", "track=3", "-metadata", "date=2001")
	want := Tags{
		Title: "Tïtle", Artists: []string{"Artist"}, AlbumArtists: []string{"AA"}, Album: "Album",
		Year: 2001, Track: 3, Format: "asf", Blocks: []Kind{ASF},
	}
	readersTestEqual(t, readersTestRead(t, wma), want)

	tagged := readersTestMutagen(t, wma, `
from mutagen.asf import ASF, ASFUnicodeAttribute, ASFDWordAttribute, ASFBoolAttribute
f = ASF(path)
f["WM/Genre"] = ["Rock", "Live"]
f["WM/AlbumArtist"] = ["AA1", "AA2"]
f["WM/TrackNumber"] = [ASFDWordAttribute(5)]
f["WM/IsCompilation"] = [ASFBoolAttribute(True)]
f["WM/PartOfSet"] = [ASFUnicodeAttribute("2/3", language=1)]
f["WM/Picture"] = [bytes(200000)]
f.save()
`)
	want.Genres, want.AlbumArtists, want.Track, want.Compilation = []string{"Rock", "Live"}, []string{"AA1", "AA2"}, 5, true
	want.Disc, want.DiscTotal = 2, 3
	readersTestEqual(t, readersTestRead(t, tagged), want)
}

func FuzzASF(f *testing.F) {
	readersTestFuzz(f,
		asfTestFile(asfTestContent("T", "A"), asfTestExtended(asfTestText("WM/AlbumTitle", "Album"),
			asfTestNumber("WM/Track", 3, 2, 4), asfTestText("WM/GenreID", "(13)"))),
		asfTestFile(asfTestExtension(asfTestMetadata(asfMetadataGUID, asfTestNumber("WM/IsCompilation", 2, 1, 2)),
			asfTestMetadata(asfMetadataLibGUID, asfTestText("WM/Genre", "G"), asfTestAttr{"WM/Picture", 1, []byte{1, 2}}))),
	)
}
