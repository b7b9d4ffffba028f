package tags

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// vorbisTestComment builds a Vorbis comment of KEY=value fields.
func vorbisTestComment(vendor string, fields ...string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(vendor)))
	b = append(b, vendor...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(fields)))
	for _, f := range fields {
		b = vorbisTestField(b, uint32(len(f)), f)
	}
	return b
}

// vorbisTestField appends a field with the given length, which a broken
// comment may make differ from the field's.
func vorbisTestField(b []byte, n uint32, field string) []byte {
	b = binary.LittleEndian.AppendUint32(b, n)
	return append(b, field...)
}

// vorbisTestParse parses b as a bare comment, and says how many bytes it read.
func vorbisTestParse(b []byte, limit int64) (Block, int64, error) {
	s := newSource(bytes.NewReader(b), int64(len(b)), limit)
	blk, err := vorbisComment(&span{s: s, end: int64(len(b))})
	return blk, s.fetched, err
}

// vorbisTestValues lists the values of blk by field name, for comparing.
func vorbisTestValues(blk Block) map[string][]string {
	out := map[string][]string{}
	for f, vs := range blk.Values {
		if len(vs) > 0 {
			out[Field(f).String()] = vs
		}
	}
	return out
}

func TestVorbisComment(t *testing.T) {
	broken := func(fields []string, tail ...byte) []byte {
		b := vorbisTestComment("v", fields...)
		binary.LittleEndian.PutUint32(b[5:], uint32(len(fields)+1))
		return append(b, tail...)
	}
	var artists40, fields40 []string
	for i := range 40 {
		artists40 = append(artists40, "a"+strings.Repeat("x", i))
		fields40 = append(fields40, "ARTIST="+artists40[i])
	}
	tests := []struct {
		name    string
		data    []byte
		want    map[string][]string
		wantErr bool
	}{{
		name: "every field",
		data: vorbisTestComment("reference libFLAC 1.4.3", "TITLE=Jóga", "ARTIST=Björk", "ALBUMARTIST=Björk",
			"ALBUM=Homogenic", "GENRE=Electronic", "DATE=1997-09-22", "TRACKNUMBER=2", "TRACKTOTAL=10",
			"DISCNUMBER=1", "DISCTOTAL=1", "COMPILATION=0", "ORIGINALDATE=1997", "ARTISTS=Björk"),
		want: map[string][]string{"title": {"Jóga"}, "artist": {"Björk"}, "albumartist": {"Björk"},
			"album": {"Homogenic"}, "genre": {"Electronic"}, "date": {"1997-09-22"}, "track": {"2"},
			"tracktotal": {"10"}, "disc": {"1"}, "disctotal": {"1"}, "compilation": {"0"},
			"originaldate": {"1997"}, "artists": {"Björk"}},
	}, {
		name: "repeated fields are several values, in order",
		data: vorbisTestComment("", "ARTIST=B", "GENRE=Rock", "ARTIST=A", "GENRE=Jazz"),
		want: map[string][]string{"artist": {"B", "A"}, "genre": {"Rock", "Jazz"}},
	}, {
		name: "keys in any case",
		data: vorbisTestComment("", "artist=a", "Album=b", " Title =c"),
		want: map[string][]string{"artist": {"a"}, "album": {"b"}, "title": {"c"}},
	}, {
		name: "values are never split",
		data: vorbisTestComment("", "GENRE=Rock/Pop; Jazz & Blues", "ARTIST=AC/DC"),
		want: map[string][]string{"genre": {"Rock/Pop; Jazz & Blues"}, "artist": {"AC/DC"}},
	}, {
		name: "Latin-1 where the text is not UTF-8, values cleaned",
		data: vorbisTestComment("", "TITLE=Caf\xe9", "ALBUM=  x\x00 ", "ARTIST="),
		want: map[string][]string{"title": {"Café"}, "album": {"x"}},
	}, {
		name: "unknown keys and fields without a key are ignored",
		data: vorbisTestComment("", "COMMENT=x", "NOEQUALS", "", "=v", strings.Repeat("K", 40)+"=v",
			"METADATA_BLOCK_PICTURE="+strings.Repeat("A", 5000), "TITLE=t"),
		want: map[string][]string{"title": {"t"}},
	}, {
		name: "a value longer than the key peek",
		data: vorbisTestComment("", "TITLE="+strings.Repeat("ab", 100)),
		want: map[string][]string{"title": {strings.Repeat("ab", 100)}},
	}, {
		name: "at most maxValues values a field",
		data: vorbisTestComment("", fields40...),
		want: map[string][]string{"artist": artists40[:maxValues]},
	}, {
		name:    "a field past the end keeps those before it",
		data:    vorbisTestField(broken([]string{"ARTIST=A"}), 1000, "TITLE=x"),
		want:    map[string][]string{"artist": {"A"}},
		wantErr: true,
	}, {
		name:    "fewer fields than the count",
		data:    broken([]string{"ARTIST=A", "ALBUM=B"}),
		want:    map[string][]string{"artist": {"A"}, "album": {"B"}},
		wantErr: true,
	}, {
		name:    "a huge length past the end",
		data:    vorbisTestField(broken([]string{"ARTIST=A"}), 0xFFFFFFFF, "TITLE=x"),
		want:    map[string][]string{"artist": {"A"}},
		wantErr: true,
	}, {
		name:    "vendor past the end",
		data:    binary.LittleEndian.AppendUint32(nil, 100),
		want:    map[string][]string{},
		wantErr: true,
	}, {
		name:    "empty",
		want:    map[string][]string{},
		wantErr: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			blk, _, err := vorbisTestParse(tt.data, DefaultLimit)
			if (err != nil) != tt.wantErr {
				t.Errorf("err = %v, want error %v", err, tt.wantErr)
			}
			if got := vorbisTestValues(blk); !vorbisTestEqual(got, tt.want) {
				t.Errorf("values = %q, want %q", got, tt.want)
			}
		})
	}
}

func vorbisTestEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// A picture in a field is skipped unread: by its length when over
// maxFieldLen, after reading its key otherwise.
func TestVorbisCommentSkipsPictures(t *testing.T) {
	for _, size := range []int{100 << 10, 5 << 20} {
		data := vorbisTestComment("", "TITLE=before", "METADATA_BLOCK_PICTURE="+strings.Repeat("A", size), "ARTIST=after")
		blk, n, err := vorbisTestParse(data, DefaultLimit)
		if err != nil {
			t.Fatal(err)
		}
		if got := vorbisTestValues(blk); !vorbisTestEqual(got, map[string][]string{"title": {"before"}, "artist": {"after"}}) {
			t.Errorf("values = %q", got)
		}
		if n > 2*window {
			t.Errorf("%d-byte picture: read %d bytes", size, n)
		}
	}
}

func FuzzVorbisComment(f *testing.F) {
	f.Add(vorbisTestComment("vendor", "TITLE=t", "ARTIST=a", "ARTIST=b", "genre=g"))
	f.Add(vorbisTestField(vorbisTestComment("", "ALBUM=x"), 0xFFFFFFF0, "TITLE=x"))
	f.Add(vorbisTestComment("", "METADATA_BLOCK_PICTURE="+strings.Repeat("A", 300), "TITLE=Caf\xe9"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1 << 20
		blk, n, _ := vorbisTestParse(data, limit)
		if n > limit {
			t.Fatalf("read %d bytes over the limit", n)
		}
		for f, vs := range blk.Values {
			if len(vs) > maxValues {
				t.Fatalf("%v: %d values", Field(f), len(vs))
			}
		}
	})
}
