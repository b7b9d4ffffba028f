package tags

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// flacTestBlock builds a metadata block; flacTestFile sets the last one's flag.
func flacTestBlock(typ byte, body []byte) []byte {
	n := len(body)
	return append([]byte{typ, byte(n >> 16), byte(n >> 8), byte(n)}, body...)
}

func flacTestComment(fields ...string) []byte {
	return flacTestBlock(flacVorbisComment, vorbisTestComment("reference libFLAC 1.4.3", fields...))
}

// flacTestFile builds a FLAC file: STREAMINFO, the given blocks (the last
// flagged so), then a few bytes standing for audio frames.
func flacTestFile(blocks ...[]byte) []byte {
	b := []byte("fLaC")
	blocks = append([][]byte{flacTestBlock(0, make([]byte, 34))}, blocks...)
	for i, blk := range blocks {
		if i == len(blocks)-1 {
			blk = append([]byte{blk[0] | 0x80}, blk[1:]...)
		}
		b = append(b, blk...)
	}
	for range 8 {
		b = append(b, 0xFF, 0xF8, 0x69, 0x08)
		b = append(b, make([]byte, 60)...)
	}
	return b
}

// flacTestID3v2 builds an ID3v2.4 tag of UTF-8 text frames (id, value,
// id, value...), with some padding, as taggers put in front of FLAC files.
func flacTestID3v2(frames ...string) []byte {
	var body []byte
	for i := 0; i+1 < len(frames); i += 2 {
		n := len(frames[i+1]) + 1
		body = append(body, frames[i]...)
		body = append(body, 0, 0, byte(n>>7), byte(n&0x7f), 0, 0, 3)
		body = append(body, frames[i+1]...)
	}
	body = append(body, make([]byte, 64)...)
	n := len(body)
	return append([]byte{'I', 'D', '3', 4, 0, 0, 0, byte(n >> 14), byte(n >> 7 & 0x7f), byte(n & 0x7f)}, body...)
}

func flacTestRead(data []byte) (Tags, int64, error) {
	return ReadLimit(bytes.NewReader(data), int64(len(data)), DefaultLimit)
}

func TestFLAC(t *testing.T) {
	comment := flacTestComment("TITLE=Jóga", "ARTIST=Björk", "ALBUMARTIST=Björk", "ALBUM=Homogenic",
		"GENRE=Electronic", "DATE=1997-09-22", "TRACKNUMBER=2/10", "DISCNUMBER=1", "DISCTOTAL=1")
	want := Tags{Title: "Jóga", Artists: []string{"Björk"}, AlbumArtists: []string{"Björk"}, Album: "Homogenic",
		Genres: []string{"Electronic"}, Year: 1997, Track: 2, TrackTotal: 10, Disc: 1, DiscTotal: 1,
		Format: "flac", Blocks: []Kind{Vorbis}}
	tests := []struct {
		name    string
		data    []byte
		want    Tags
		wantErr error
	}{{
		name: "comment among other blocks",
		data: flacTestFile(flacTestBlock(3, make([]byte, 18*4)), flacTestBlock(2, []byte("appl")), comment,
			flacTestBlock(1, make([]byte, 8192))),
		want: want,
	}, {
		name: "comment after a picture",
		data: flacTestFile(flacTestBlock(6, make([]byte, 100<<10)), comment),
		want: want,
	}, {
		name: "repeated fields",
		data: flacTestFile(flacTestComment("ARTIST=Simon & Garfunkel", "ARTIST=AC/DC", "GENRE=Rock", "GENRE=Folk", "COMPILATION=1")),
		want: Tags{Artists: []string{"Simon & Garfunkel", "AC/DC"}, Genres: []string{"Rock", "Folk"},
			Compilation: true, Format: "flac", Blocks: []Kind{Vorbis}},
	}, {
		name: "a broken comment keeps the fields before the break",
		data: flacTestFile(flacTestBlock(flacVorbisComment, vorbisTestField(vorbisTestComment("", "TITLE=t", "ALBUM=a"), 99, "x"))),
		want: Tags{Title: "t", Album: "a", Format: "flac", Blocks: []Kind{Vorbis}},
	}, {
		name:    "a broken comment with nothing readable",
		data:    flacTestFile(flacTestBlock(flacVorbisComment, []byte{1, 2})),
		want:    Tags{Format: "flac"},
		wantErr: &FormatError{},
	}, {
		name:    "an invalid block type ends the walk",
		data:    flacTestFile(flacTestBlock(flacInvalid, nil), comment),
		want:    Tags{Format: "flac"},
		wantErr: &FormatError{},
	}, {
		name:    "nothing is read after the last block",
		data:    append(flacTestFile(flacTestBlock(1, make([]byte, 10))), comment...),
		want:    Tags{Format: "flac"},
		wantErr: ErrNoTags,
	}, {
		name:    "no comment",
		data:    flacTestFile(flacTestBlock(1, make([]byte, 10))),
		want:    Tags{Format: "flac"},
		wantErr: ErrNoTags,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := flacTestRead(tt.data)
			flacTestCheck(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// flacTestCheck compares a Read's result; a *FormatError wantErr stands for
// any.
func flacTestCheck(t *testing.T, got Tags, err error, want Tags, wantErr error) {
	t.Helper()
	var fe *FormatError
	if _, anyFormat := wantErr.(*FormatError); anyFormat && !errors.As(err, &fe) || !anyFormat && !errors.Is(err, wantErr) {
		t.Errorf("err = %v, want %v", err, wantErr)
	}
	if !flacTestEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

func flacTestEqual(a, b Tags) bool {
	return a.Title == b.Title && slices.Equal(a.Artists, b.Artists) && slices.Equal(a.AlbumArtists, b.AlbumArtists) &&
		a.Album == b.Album && slices.Equal(a.Genres, b.Genres) && a.Year == b.Year && a.Track == b.Track &&
		a.TrackTotal == b.TrackTotal && a.Disc == b.Disc && a.DiscTotal == b.DiscTotal &&
		a.Compilation == b.Compilation && a.Format == b.Format && slices.Equal(a.Blocks, b.Blocks)
}

// An ID3v2 tag in front of "fLaC" (empty, or with frames) hides neither
// the comment nor the format; the comment wins the fields both have.
func TestFLACAfterID3v2(t *testing.T) {
	body := flacTestFile(flacTestComment("TITLE=vorbis title", "ARTIST=vorbis artist"))
	for _, tt := range []struct {
		name string
		id3  []byte
		want Tags
	}{{
		name: "empty",
		id3:  flacTestID3v2(),
		want: Tags{Title: "vorbis title", Artists: []string{"vorbis artist"}, Format: "flac", Blocks: []Kind{Vorbis}},
	}, {
		name: "with frames",
		id3:  flacTestID3v2("TIT2", "id3 title", "TALB", "id3 album"),
		want: Tags{Title: "vorbis title", Artists: []string{"vorbis artist"}, Album: "id3 album",
			Format: "flac", Blocks: []Kind{Vorbis, ID3v24}},
	}} {
		t.Run(tt.name, func(t *testing.T) {
			data := append(slices.Clip(tt.id3), body...)
			got, err := Read(bytes.NewReader(data), int64(len(data)))
			flacTestCheck(t, got, err, tt.want, nil)
		})
	}
}

// A multi-megabyte picture, as a PICTURE block or as a picture field in
// the comment, is skipped by offset: the bytes read stay far below its size.
func TestFLACSkipsPictures(t *testing.T) {
	const size = 5 << 20
	picture := flacTestBlock(6, make([]byte, size))
	comment := flacTestComment("TITLE=t", "ARTIST=a")
	inComment := flacTestComment("TITLE=t", "METADATA_BLOCK_PICTURE="+strings.Repeat("A", size), "ARTIST=a")
	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"picture block before the comment", flacTestFile(picture, comment, flacTestBlock(1, make([]byte, 8192)))},
		{"picture block after the comment", flacTestFile(comment, picture, flacTestBlock(1, make([]byte, 8192)))},
		{"picture field in the comment", flacTestFile(inComment, flacTestBlock(1, make([]byte, 8192)))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, n, err := flacTestRead(tt.data)
			flacTestCheck(t, got, err, Tags{Title: "t", Artists: []string{"a"}, Format: "flac", Blocks: []Kind{Vorbis}}, nil)
			if n > 64<<10+int64(len(comment)) {
				t.Errorf("read %d bytes of a %d-byte file", n, len(tt.data))
			}
			t.Logf("read %d bytes of a %d-byte file", n, len(tt.data))
		})
	}
}

// A file cut anywhere gives what it has or a format error, never a panic or
// another error.
func TestFLACTruncated(t *testing.T) {
	data := append(flacTestID3v2("TIT2", "id3"), flacTestFile(flacTestBlock(6, make([]byte, 300)),
		flacTestComment("TITLE=t", "ARTIST=a", "ARTIST=b"), flacTestBlock(1, make([]byte, 100)))...)
	readersTestPrefixes(t, data)
}

func FuzzFLAC(f *testing.F) {
	f.Add(flacTestFile(flacTestComment("TITLE=t", "ARTIST=a", "ARTIST=b")))
	f.Add(flacTestFile(flacTestBlock(6, make([]byte, 100)), flacTestComment("ALBUM=x"), flacTestBlock(1, make([]byte, 16))))
	f.Add(append(flacTestID3v2("TIT2", "x"), flacTestFile(flacTestBlock(flacVorbisComment, []byte{1, 0, 0, 0}))...))
	readersTestFuzz(f)
}
