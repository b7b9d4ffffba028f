package tags

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"unicode/utf16"
)

// mp4TestAtom builds an atom with a 32-bit size.
func mp4TestAtom(typ string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return slices.Concat(binary.BigEndian.AppendUint32(nil, uint32(8+len(b))), []byte(typ), b)
}

// mp4TestAtom64 builds an atom with a 64-bit size.
func mp4TestAtom64(typ string, body ...[]byte) []byte {
	b := bytes.Join(body, nil)
	return slices.Concat([]byte{0, 0, 0, 1}, []byte(typ), binary.BigEndian.AppendUint64(nil, uint64(16+len(b))), b)
}

// mp4TestData builds a data atom of the given type.
func mp4TestData(typ uint32, v []byte) []byte {
	return mp4TestAtom("data", binary.BigEndian.AppendUint32(nil, typ), make([]byte, 4), v)
}

// mp4TestText builds an item with one UTF-8 data atom per value.
func mp4TestText(item string, values ...string) []byte {
	var data [][]byte
	for _, v := range values {
		data = append(data, mp4TestData(mp4UTF8, []byte(v)))
	}
	return mp4TestAtom(item, data...)
}

// mp4TestFreeform builds a "----" item.
func mp4TestFreeform(mean, name string, values ...string) []byte {
	full := func(s string) []byte { return append(make([]byte, 4), s...) }
	data := [][]byte{mp4TestAtom("mean", full(mean)), mp4TestAtom("name", full(name))}
	for _, v := range values {
		data = append(data, mp4TestData(mp4UTF8, []byte(v)))
	}
	return mp4TestAtom("----", data...)
}

func mp4TestNumbers(typ uint32, ns ...uint16) []byte {
	var b []byte
	for _, n := range ns {
		b = binary.BigEndian.AppendUint16(b, n)
	}
	return mp4TestData(typ, b)
}

// mp4TestMoov wraps items in moov/udta/meta/ilst, the containers built by
// atom (mp4TestAtom or mp4TestAtom64), with a track before udta.
func mp4TestMoov(atom func(string, ...[]byte) []byte, items ...[]byte) []byte {
	hdlr := mp4TestAtom("hdlr", make([]byte, 8), []byte("mdirappl"), make([]byte, 9))
	meta := atom("meta", make([]byte, 4), hdlr, atom("ilst", items...))
	return atom("moov", mp4TestAtom("mvhd", make([]byte, 100)), mp4TestAtom("trak", make([]byte, 2000)), atom("udta", meta))
}

func mp4TestFile(moov []byte) []byte {
	ftyp := mp4TestAtom("ftyp", []byte("M4A \x00\x00\x02\x00isomiso2"))
	return slices.Concat(ftyp, moov, mp4TestAtom("free", make([]byte, 16)), mp4TestAtom("mdat", make([]byte, 1000)))
}

func mp4TestRead(data []byte) (Tags, int64, error) {
	return ReadLimit(bytes.NewReader(data), int64(len(data)), DefaultLimit)
}

func TestMP4(t *testing.T) {
	every := []byte(nil)
	for _, item := range [][]byte{
		mp4TestText("\xa9nam", "Jóga"), mp4TestText("\xa9ART", "Björk"), mp4TestText("aART", "Björk"),
		mp4TestText("\xa9alb", "Homogenic"), mp4TestText("\xa9gen", "Electronic"),
		mp4TestText("\xa9day", "1997-09-22T07:00:00Z"), mp4TestAtom("trkn", mp4TestNumbers(0, 0, 2, 10, 0)),
		mp4TestAtom("disk", mp4TestNumbers(0, 0, 1, 2)), mp4TestAtom("cpil", mp4TestData(mp4Int, []byte{1})),
	} {
		every = append(every, item...)
	}
	want := Tags{Title: "Jóga", Artists: []string{"Björk"}, AlbumArtists: []string{"Björk"}, Album: "Homogenic",
		Genres: []string{"Electronic"}, Year: 1997, Track: 2, TrackTotal: 10, Disc: 1, DiscTotal: 2,
		Compilation: true, Format: "mp4", Blocks: []Kind{MP4}}
	title := mp4TestText("\xa9nam", "t")
	titled := Tags{Title: "t", Format: "mp4", Blocks: []Kind{MP4}}
	utf16be := []byte{0xFE, 0xFF}
	for _, u := range utf16.Encode([]rune("Sigur Rós")) {
		utf16be = binary.BigEndian.AppendUint16(utf16be, u)
	}
	hdlr := mp4TestAtom("hdlr", make([]byte, 8), []byte("mdirappl"), make([]byte, 9))
	quickTime := mp4TestAtom("moov", mp4TestAtom("udta", mp4TestAtom("meta", hdlr, mp4TestAtom("ilst", title))))
	tests := []struct {
		name    string
		data    []byte
		want    Tags
		wantErr error
	}{{
		name: "every item",
		data: mp4TestFile(mp4TestMoov(mp4TestAtom, every)),
		want: want,
	}, {
		name: "64-bit sizes",
		data: mp4TestFile(mp4TestMoov(mp4TestAtom64, every)),
		want: want,
	}, {
		name: "several data atoms are several values",
		data: mp4TestFile(mp4TestMoov(mp4TestAtom, mp4TestText("\xa9ART", "A", "B"), mp4TestText("\xa9gen", "Rock", "Jazz"))),
		want: Tags{Artists: []string{"A", "B"}, Genres: []string{"Rock", "Jazz"}, Format: "mp4", Blocks: []Kind{MP4}},
	}, {
		name: "freeform items",
		data: mp4TestFile(mp4TestMoov(mp4TestAtom, mp4TestText("\xa9ART", "A feat. B"),
			mp4TestFreeform("com.apple.iTunes", "ARTISTS", "A", "B"), mp4TestFreeform("com.apple.iTunes", "ALBUM ARTIST", "C"),
			mp4TestFreeform("com.apple.iTunes", "ORIGINALDATE", "1970"), mp4TestFreeform("org.example", "ALBUM", "no"),
			mp4TestFreeform("com.apple.iTunes", "MusicBrainz Album Id", "no"))),
		want: Tags{Artists: []string{"A", "B"}, AlbumArtists: []string{"C"}, Year: 1970, Format: "mp4", Blocks: []Kind{MP4}},
	}, {
		name: "ID3 genre number, integer flag, UTF-16 text",
		data: mp4TestFile(mp4TestMoov(mp4TestAtom, mp4TestAtom("gnre", mp4TestNumbers(0, 18)),
			mp4TestAtom("cpil", mp4TestData(mp4Int, []byte{0, 0, 0, 0})), mp4TestAtom("\xa9ART", mp4TestData(mp4UTF16, utf16be)))),
		want: Tags{Artists: []string{"Sigur Rós"}, Genres: []string{"Rock"}, Format: "mp4", Blocks: []Kind{MP4}},
	}, {
		name: "odd values and atoms are skipped",
		data: mp4TestFile(mp4TestMoov(mp4TestAtom,
			mp4TestAtom("\xa9nam", mp4TestData(mp4Int, []byte{1}), mp4TestAtom("data", []byte{0, 0, 0, 1}),
				mp4TestAtom("name", []byte("x")), mp4TestData(mp4UTF8, []byte("t"))),
			mp4TestAtom("trkn", mp4TestNumbers(0, 0, 2)), mp4TestAtom("gnre", mp4TestData(0, []byte{0, 1, 2})),
			mp4TestAtom("cpil", mp4TestData(mp4UTF8, []byte("1"))), mp4TestAtom("\xa9alb"), mp4TestText("zzzz", "no"))),
		want: titled,
	}, {
		name: "QuickTime meta without version and flags",
		data: mp4TestFile(quickTime),
		want: titled,
	}, {
		name: "moov to the end of the file",
		data: slices.Concat(mp4TestAtom("ftyp", []byte("M4A ")), []byte{0, 0, 0, 0}, mp4TestMoov(mp4TestAtom, title)[4:]),
		want: titled,
	}, {
		name: "a broken atom keeps the items before it",
		data: mp4TestFile(mp4TestMoov(mp4TestAtom, title, []byte{0, 0, 0, 3, 'a', 'A', 'R', 'T'}, mp4TestText("\xa9alb", "lost"))),
		want: titled,
	}, {
		name: "an item running past its parent is cut there",
		data: mp4TestFile(mp4TestMoov(mp4TestAtom, slices.Concat([]byte{0, 0, 1, 0}, title[4:]))),
		want: titled,
	}, {
		name:    "a broken atom before moov",
		data:    slices.Concat(mp4TestAtom("ftyp", []byte("M4A ")), []byte{0, 0, 0, 1, 'f', 'r', 'e', 'e', 0, 0, 0, 0, 0, 0, 0, 9}, mp4TestMoov(mp4TestAtom, title)),
		want:    Tags{Format: "mp4"},
		wantErr: &FormatError{},
	}, {
		name:    "no moov",
		data:    slices.Concat(mp4TestAtom("ftyp", []byte("M4A ")), mp4TestAtom("mdat", make([]byte, 100))),
		want:    Tags{Format: "mp4"},
		wantErr: ErrNoTags,
	}, {
		name:    "no ilst",
		data:    mp4TestFile(mp4TestAtom("moov", mp4TestAtom("udta", mp4TestAtom("meta", make([]byte, 4), hdlr)))),
		want:    Tags{Format: "mp4"},
		wantErr: ErrNoTags,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := mp4TestRead(tt.data)
			flacTestCheck(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// A cover of any layout is skipped by offset and costs the other items nothing.
func TestMP4Covr(t *testing.T) {
	for _, tt := range []struct {
		name string
		covr []byte
	}{
		{"jpeg", mp4TestAtom("covr", mp4TestData(13, []byte("\xff\xd8\xff\xe0 jpeg")))},
		{"implicit type, two images", mp4TestAtom("covr", mp4TestData(0, make([]byte, 50)), mp4TestData(14, make([]byte, 20)))},
		{"data atom too short", mp4TestAtom("covr", mp4TestAtom("data", []byte{0, 0}))},
		{"no data atom", mp4TestAtom("covr", make([]byte, 37))},
		{"other children", mp4TestAtom("covr", mp4TestAtom("name", []byte("front")), mp4TestAtom("mean", nil))},
		{"a child past its end", mp4TestAtom("covr", []byte{0, 0, 0xFF, 0xFF, 'd', 'a', 't', 'a'})},
		{"64-bit", mp4TestAtom64("covr", mp4TestData(13, make([]byte, 100)))},
		{"1 MiB", mp4TestAtom("covr", mp4TestData(13, make([]byte, 1<<20)))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := mp4TestFile(mp4TestMoov(mp4TestAtom, tt.covr, mp4TestText("\xa9nam", "t"), mp4TestText("\xa9ART", "a")))
			got, n, err := mp4TestRead(data)
			flacTestCheck(t, got, err, Tags{Title: "t", Artists: []string{"a"}, Format: "mp4", Blocks: []Kind{MP4}}, nil)
			if n > 2*window {
				t.Errorf("read %d bytes", n)
			}
		})
	}
}

// moov after the audio is found by skipping mdat, whatever its size.
func TestMP4MoovAfterMdat(t *testing.T) {
	moov := mp4TestMoov(mp4TestAtom, mp4TestText("\xa9nam", "t"))
	ftyp := mp4TestAtom("ftyp", []byte("M4A \x00\x00\x02\x00isomiso2"))
	for _, tt := range []struct {
		name string
		mdat []byte
		gap  int64
	}{
		{"32-bit mdat of 10 MiB", []byte{0, 0xa0, 0, 8, 'm', 'd', 'a', 't'}, 10 << 20},
		{"64-bit mdat of 5 GiB", slices.Concat([]byte{0, 0, 0, 1}, []byte("mdat"), binary.BigEndian.AppendUint64(nil, 5<<30+16)), 5 << 30},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := &sparseFile{head: slices.Concat(ftyp, tt.mdat), gap: tt.gap, tail: moov}
			got, n, err := ReadLimit(f, f.size(), DefaultLimit)
			flacTestCheck(t, got, err, Tags{Title: "t", Format: "mp4", Blocks: []Kind{MP4}}, nil)
			if n > window+int64(len(moov)) {
				t.Errorf("read %d bytes", n)
			}
			t.Logf("read %d bytes of a %d-byte file", n, f.size())
		})
	}
}

// A million tiny atoms cost no more than mp4MaxAtoms of them.
func TestMP4ManyAtoms(t *testing.T) {
	tiny := bytes.Repeat(mp4TestAtom("free"), 1_000_000)
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"top level", slices.Concat(mp4TestAtom("ftyp", []byte("M4A ")), tiny, mp4TestMoov(mp4TestAtom, mp4TestText("\xa9nam", "t")))},
		{"in ilst", mp4TestFile(mp4TestMoov(mp4TestAtom, tiny, mp4TestText("\xa9nam", "t")))},
		{"in an item", mp4TestFile(mp4TestMoov(mp4TestAtom, mp4TestAtom("\xa9nam", tiny, mp4TestData(mp4UTF8, []byte("t")))))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, n, err := mp4TestRead(tt.data)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("err = %v, want a *FormatError", err)
			}
			if n > mp4MaxAtoms*8+2*window {
				t.Errorf("read %d bytes", n)
			}
		})
	}
}

func TestMP4Truncated(t *testing.T) {
	for _, atom := range []func(string, ...[]byte) []byte{mp4TestAtom, mp4TestAtom64} {
		data := mp4TestFile(mp4TestMoov(atom, mp4TestText("\xa9nam", "t"), mp4TestAtom("covr", mp4TestData(13, make([]byte, 40))),
			mp4TestFreeform("com.apple.iTunes", "ARTISTS", "a", "b"), mp4TestAtom("trkn", mp4TestNumbers(0, 0, 1, 2, 0))))
		readersTestPrefixes(t, data)
	}
}

func FuzzMP4(f *testing.F) {
	f.Add(mp4TestFile(mp4TestMoov(mp4TestAtom, mp4TestText("\xa9nam", "t"), mp4TestText("\xa9ART", "a", "b"),
		mp4TestAtom("trkn", mp4TestNumbers(0, 0, 1, 2, 0)), mp4TestAtom("gnre", mp4TestNumbers(0, 18)))))
	f.Add(mp4TestFile(mp4TestMoov(mp4TestAtom64, mp4TestFreeform("com.apple.iTunes", "ARTISTS", "a"),
		mp4TestAtom("covr", mp4TestData(13, make([]byte, 8))), mp4TestAtom("cpil", mp4TestData(mp4Int, []byte{1})))))
	readersTestFuzz(f)
}
