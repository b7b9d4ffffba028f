package tags

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"unicode/utf16"
)

// id3TestFrame builds one ID3v2.3/2.4 frame, or a v2.2 one for major 2.
func id3TestFrame(major byte, id string, flags uint16, body []byte) []byte {
	var b []byte
	b = append(b, id...)
	switch major {
	case 2:
		n := len(body)
		b = append(b, byte(n>>16), byte(n>>8), byte(n))
		return append(b, body...)
	case 3:
		b = binary.BigEndian.AppendUint32(b, uint32(len(body)))
	default:
		b = append(b, id3TestSyncsafe(len(body))...)
	}
	b = binary.BigEndian.AppendUint16(b, flags)
	return append(b, body...)
}

func id3TestSyncsafe(n int) []byte {
	return []byte{byte(n >> 21 & 0x7f), byte(n >> 14 & 0x7f), byte(n >> 7 & 0x7f), byte(n & 0x7f)}
}

// id3TestTag wraps frames in a tag header, followed by padding and a few
// MPEG frame headers.
func id3TestTag(major, flags byte, frames ...[]byte) []byte {
	body := bytes.Join(frames, nil)
	body = append(body, make([]byte, 16)...) // padding
	b := append([]byte("ID3"), major, 0, flags)
	b = append(b, id3TestSyncsafe(len(body))...)
	b = append(b, body...)
	for range 4 {
		b = append(b, 0xFF, 0xFB, 0x90, 0x64)
		b = append(b, make([]byte, 413)...)
	}
	return b
}

func id3TestUTF8(s string) []byte { return append([]byte{3}, s...) }

func id3TestUTF16(s string, bom bool) []byte {
	b := []byte{1}
	if bom {
		b = append(b, 0xFF, 0xFE)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

func id3TestRead(t *testing.T, data []byte) Tags {
	t.Helper()
	got, err := Read(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return got
}

func TestID3v2Versions(t *testing.T) {
	for _, major := range []byte{2, 3, 4} {
		ids := map[byte][]string{
			2: {"TT2", "TP1", "TP2", "TAL", "TCO", "TYE", "TRK", "TPA", "TCP"},
			3: {"TIT2", "TPE1", "TPE2", "TALB", "TCON", "TYER", "TRCK", "TPOS", "TCMP"},
			4: {"TIT2", "TPE1", "TPE2", "TALB", "TCON", "TDRC", "TRCK", "TPOS", "TCMP"},
		}[major]
		vals := []string{"Jóga", "Björk", "Björk", "Homogenic", "(13)", "1997-09-22", "2/10", "1/1", "1"}
		var frames [][]byte
		for i, id := range ids {
			frames = append(frames, id3TestFrame(major, id, 0, id3TestUTF16(vals[i], true)))
		}
		got := id3TestRead(t, id3TestTag(major, 0, frames...))
		want := Tags{Title: "Jóga", Artists: []string{"Björk"}, AlbumArtists: []string{"Björk"}, Album: "Homogenic",
			Genres: []string{"Pop"}, Year: 1997, Track: 2, TrackTotal: 10, Disc: 1, DiscTotal: 1, Compilation: true,
			Format: "mpeg", Blocks: []Kind{[...]Kind{2: ID3v22, 3: ID3v23, 4: ID3v24}[major]}}
		id3TestEqual(t, got, want)
	}
}

func id3TestEqual(t *testing.T, got, want Tags) {
	t.Helper()
	if got.Title != want.Title || got.Album != want.Album || !slices.Equal(got.Artists, want.Artists) ||
		!slices.Equal(got.AlbumArtists, want.AlbumArtists) || !slices.Equal(got.Genres, want.Genres) ||
		got.Year != want.Year || got.Track != want.Track || got.TrackTotal != want.TrackTotal ||
		got.Disc != want.Disc || got.DiscTotal != want.DiscTotal || got.Compilation != want.Compilation ||
		(want.Format != "" && got.Format != want.Format) || (want.Blocks != nil && !slices.Equal(got.Blocks, want.Blocks)) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func TestID3v2BrokenFramesLoseOnlyThemselves(t *testing.T) {
	zl := func(s string) []byte {
		var b bytes.Buffer
		w := zlib.NewWriter(&b)
		w.Write(id3TestUTF8(s))
		w.Close()
		return b.Bytes()
	}
	latin := func(s string) []byte { return append([]byte{0}, s...) }
	tests := []struct {
		name  string
		major byte
		flags byte
		bad   []byte // the frame under test, before a good TALB
		want  Tags
	}{
		{"odd UTF-16 length", 3, 0,
			id3TestFrame(3, "TIT2", 0, append(id3TestUTF16("Odd", true), 0)),
			Tags{Title: "Odd", Album: "Good"}},
		{"UTF-16 without BOM", 3, 0,
			id3TestFrame(3, "TIT2", 0, id3TestUTF16("NoBOM", false)),
			Tags{Title: "NoBOM", Album: "Good"}},
		{"zero-size frame", 3, 0,
			id3TestFrame(3, "TPE1", 0, nil),
			Tags{Album: "Good"}},
		{"bad encoding byte", 4, 0,
			id3TestFrame(4, "TIT2", 0, append([]byte{9}, "Bad"...)),
			Tags{Album: "Good"}},
		{"v2.3 compressed", 3, 0,
			id3TestFrame(3, "TIT2", 0x0080, append(binary.BigEndian.AppendUint32(nil, 8), zl("Zipped")...)),
			Tags{Title: "Zipped", Album: "Good"}},
		{"v2.4 compressed with data length", 4, 0,
			id3TestFrame(4, "TIT2", 0x0008|0x0001, append(id3TestSyncsafe(7), zl("Zipped")...)),
			Tags{Title: "Zipped", Album: "Good"}},
		{"v2.3 compressed, garbage", 3, 0,
			id3TestFrame(3, "TIT2", 0x0080, append(binary.BigEndian.AppendUint32(nil, 8), "\x9c\x9cnot zlib"...)),
			Tags{Album: "Good"}},
		{"encrypted", 3, 0,
			id3TestFrame(3, "TIT2", 0x0040, append([]byte{1}, "secret"...)),
			Tags{Album: "Good"}},
		{"v2.4 unsynchronised frame", 4, 0,
			id3TestFrame(4, "TIT2", 0x0002, latin("\xff\x00\xe9")),
			Tags{Title: "ÿé", Album: "Good"}},
		{"several values", 4, 0,
			id3TestFrame(4, "TPE1", 0, id3TestUTF8("pima\x00njzig\x00")),
			Tags{Artists: []string{"pima", "njzig"}, Album: "Good"}},
		{"several UTF-16 values, each with a BOM", 4, 0,
			id3TestFrame(4, "TCON", 0, append(append(id3TestUTF16("Rock", true), 0, 0), id3TestUTF16("Live", true)[1:]...)),
			Tags{Genres: []string{"Rock", "Live"}, Album: "Good"}},
		{"duplicate genres", 4, 0,
			id3TestFrame(4, "TCON", 0, id3TestUTF8("Ambient\x00Ambient")),
			Tags{Genres: []string{"Ambient"}, Album: "Good"}},
		{"genre codes", 3, 0,
			id3TestFrame(3, "TCON", 0, latin("(RX)(CR)")),
			Tags{Genres: []string{"Remix", "Cover"}, Album: "Good"}},
		{"genre refinement", 3, 0,
			id3TestFrame(3, "TCON", 0, latin("(17)Britrock")),
			Tags{Genres: []string{"Rock", "Britrock"}, Album: "Good"}},
		{"one value with a slash", 3, 0,
			id3TestFrame(3, "TPE1", 0, latin("AC/DC")),
			Tags{Artists: []string{"AC/DC"}, Album: "Good"}},
		{"TXXX artists", 4, 0,
			bytes.Join([][]byte{
				id3TestFrame(4, "TPE1", 0, id3TestUTF8("A feat. B")),
				id3TestFrame(4, "TXXX", 0, id3TestUTF8("ARTISTS\x00A\x00B")),
			}, nil),
			Tags{Artists: []string{"A", "B"}, Album: "Good"}},
		{"date as DD-MM-YYYY", 3, 0,
			id3TestFrame(3, "TYER", 0, latin("08-05-1998")),
			Tags{Year: 1998, Album: "Good"}},
		{"implausible year", 3, 0,
			id3TestFrame(3, "TYER", 0, latin("8")),
			Tags{Album: "Good"}},
		{"picture skipped", 3, 0,
			id3TestFrame(3, "APIC", 0, make([]byte, 3<<20)),
			Tags{Album: "Good"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := id3TestFrame(tt.major, "TALB", 0, latin("Good"))
			id3TestEqual(t, id3TestRead(t, id3TestTag(tt.major, tt.flags, tt.bad, good)), tt.want)
		})
	}
}

func TestID3v2TagUnsynchronisation(t *testing.T) {
	// With unsynchronisation every 0xFF is followed by a 0x00 that is not
	// part of the data, frame headers included.
	frames := bytes.Join([][]byte{
		id3TestFrame(3, "TIT2", 0, append([]byte{0}, "\xff\xe9t\xe9"...)),
		id3TestFrame(3, "TALB", 0, append([]byte{0}, "Album"...)),
	}, nil)
	var synced []byte
	for _, c := range frames {
		synced = append(synced, c)
		if c == 0xFF {
			synced = append(synced, 0)
		}
	}
	got := id3TestRead(t, id3TestTag(3, 0x80, synced))
	id3TestEqual(t, got, Tags{Title: "ÿété", Album: "Album"})
}

func TestID3v24ITunesFrameSizes(t *testing.T) {
	// iTunes wrote plain big-endian sizes in ID3v2.4 tags: a 200-byte
	// frame's size reads as a different syncsafe number.
	long := bytes.Repeat([]byte("x"), 200)
	frame := func(id string, body []byte) []byte {
		b := append([]byte(id), binary.BigEndian.AppendUint32(nil, uint32(len(body)))...)
		return append(append(b, 0, 0), body...)
	}
	data := id3TestTag(4, 0, frame("TIT2", append([]byte{0}, long...)), frame("TALB", append([]byte{0}, "Album"...)))
	got := id3TestRead(t, data)
	id3TestEqual(t, got, Tags{Title: string(long), Album: "Album"})
}

func TestID3v2PictureIsNotRead(t *testing.T) {
	data := id3TestTag(3, 0,
		id3TestFrame(3, "TIT2", 0, append([]byte{0}, "Title"...)),
		id3TestFrame(3, "APIC", 0, make([]byte, 5<<20)),
		id3TestFrame(3, "TALB", 0, append([]byte{0}, "Album"...)))
	got, n, err := ReadLimit(bytes.NewReader(data), int64(len(data)), DefaultLimit)
	if err != nil {
		t.Fatal(err)
	}
	id3TestEqual(t, got, Tags{Title: "Title", Album: "Album"})
	if n > 4*window {
		t.Errorf("read %d bytes of a %d-byte file; the picture must be skipped", n, len(data))
	}
}

func TestID3v1(t *testing.T) {
	tag := make([]byte, 128)
	copy(tag, "TAG")
	copy(tag[3:], "A title that is exactly thirty")
	copy(tag[33:], "Beyonc\xe9")
	copy(tag[63:], "Album")
	copy(tag[93:], "2003")
	tag[126], tag[127] = 7, 17
	data := append(bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x64}, 100), tag...)
	id3TestEqual(t, id3TestRead(t, data), Tags{Title: "A title that is exactly thirty", Artists: []string{"Beyoncé"},
		Album: "Album", Year: 2003, Track: 7, Genres: []string{"Rock"}, Blocks: []Kind{ID3v1}})

	// ID3v2 is richer: it wins the fields it has; ID3v1 fills the rest.
	v2 := id3TestTag(3, 0, id3TestFrame(3, "TIT2", 0, append([]byte{0}, "A title that is exactly thirty, and longer"...)))
	got := id3TestRead(t, append(v2, tag...))
	id3TestEqual(t, got, Tags{Title: "A title that is exactly thirty, and longer", Artists: []string{"Beyoncé"},
		Album: "Album", Year: 2003, Track: 7, Genres: []string{"Rock"}, Blocks: []Kind{ID3v23, ID3v1}})
}

func TestID3v2Errors(t *testing.T) {
	// A tag with frames that are all broken is a malformed block.
	data := id3TestTag(4, 0, id3TestFrame(4, "TIT2", 0, append([]byte{7}, "x"...)))
	_, err := Read(bytes.NewReader(data), int64(len(data)))
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Errorf("all frames broken: got %v, want a *FormatError", err)
	}
	// An MP3 with no tag at all.
	plain := bytes.Repeat([]byte{0xFF, 0xFB, 0x90, 0x64}, 100)
	if _, err := Read(bytes.NewReader(plain), int64(len(plain))); !errors.Is(err, ErrNoTags) {
		t.Errorf("untagged MP3: got %v, want ErrNoTags", err)
	}
	text := []byte("just some text, not audio at all")
	if _, err := Read(bytes.NewReader(text), int64(len(text))); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("text: got %v, want ErrUnknownFormat", err)
	}
}

func TestID3v2TruncatedAtEveryLength(t *testing.T) {
	data := id3TestTag(4, 0,
		id3TestFrame(4, "TIT2", 0, id3TestUTF8("Title")),
		id3TestFrame(4, "TPE1", 0x0008|0x0001, []byte{0, 0, 0, 1, 0x78}),
		id3TestFrame(4, "TALB", 0, id3TestUTF8("Album")))
	readersTestPrefixes(t, data)
}

func FuzzID3v2(f *testing.F) {
	f.Add(id3TestTag(3, 0, id3TestFrame(3, "TIT2", 0, id3TestUTF16("Title", true))))
	f.Add(id3TestTag(4, 0x80, id3TestFrame(4, "TPE1", 0x0002|0x0001, []byte{0, 0, 0, 3, 3, 'a', 'b'})))
	f.Add(id3TestTag(2, 0, id3TestFrame(2, "TT2", 0, []byte{0, 'x'})))
	f.Add(id3TestTag(4, 0x40, []byte{0, 0, 0, 6, 1, 0}, id3TestFrame(4, "TXXX", 0, id3TestUTF8("ARTISTS\x00a\x00b"))))
	readersTestFuzz(f)
}
