package audiogen

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/musicfs/musicfs/modules/index/tags"
)

var asciiTags = Tags{
	Title: "In the Flesh?", Artist: "Pink Floyd", AlbumArtist: "Pink Floyd",
	Album: "The Wall", Genre: "Rock", Year: 1979,
	Track: 1, TrackTotal: 2, Disc: 2, DiscTotal: 2,
}

func TestMP3ID3v2ReadBack(t *testing.T) {
	for _, ver := range []int{2, 3, 4} {
		for _, tc := range []struct {
			name string
			tags Tags
		}{
			{"ascii", asciiTags},
			{"unicode", unicodeTags},
			{"slash", Tags{Title: "Hells Bells", Artist: "AC/DC", Album: "Back/In Black", Year: 1980, Track: 1}},
			{"title only", Tags{Title: "Lonely Title"}},
			{"disc without totals", Tags{Title: "T", Track: 7, Disc: 3}},
		} {
			t.Run(fmt.Sprintf("v2.%d/%s", ver, tc.name), func(t *testing.T) {
				data := MP3(tc.tags, MP3Options{ID3v2: ver, Frames: 3})
				checkTags(t, data, tc.tags, "mpeg", id3v2Kind[ver])
			})
		}
	}
}

// id3v2Kind is the tag block our reader reports for each ID3v2 version.
var id3v2Kind = map[int]tags.Kind{2: tags.ID3v22, 3: tags.ID3v23, 4: tags.ID3v24}

func TestMP3ID3v2Layout(t *testing.T) {
	long := strings.Repeat("x", 200) // a frame body > 127 bytes tells syncsafe from plain sizes
	tt := Tags{Title: long, Artist: "Björk", Album: "坂本龍一", Genre: "Rock", Year: 1997, Track: 2, TrackTotal: 10, Disc: 1, DiscTotal: 2, AlbumArtist: "Björk"}
	wantIDs := map[int][]string{
		2: {"TT2", "TP1", "TP2", "TAL", "TCO", "TYE", "TRK", "TPA"},
		3: {"TIT2", "TPE1", "TPE2", "TALB", "TCON", "TYER", "TRCK", "TPOS"},
		4: {"TIT2", "TPE1", "TPE2", "TALB", "TCON", "TDRC", "TRCK", "TPOS"},
	}
	for ver, ids := range wantIDs {
		t.Run(fmt.Sprintf("v2.%d", ver), func(t *testing.T) {
			data := MP3(tt, MP3Options{ID3v2: ver, Frames: 1})
			gotVer, size, frames := walkID3v2(t, data)
			if gotVer != ver || data[4] != 0 || data[5] != 0 {
				t.Fatalf("header version %d.%d flags %#x", data[3], data[4], data[5])
			}
			var gotIDs []string
			values := map[string]string{}
			for _, f := range frames {
				gotIDs = append(gotIDs, f.id)
				enc, text := f.body[0], f.body[1:]
				nonASCII := map[string]bool{"TP1": true, "TP2": true, "TAL": true, "TPE1": true, "TPE2": true, "TALB": true}[f.id]
				switch {
				case !nonASCII && enc != 0:
					t.Errorf("%s: ASCII text with encoding %d, want 0 (ISO-8859-1)", f.id, enc)
				case nonASCII && ver == 4 && enc != 3:
					t.Errorf("%s: v2.4 non-ASCII encoding %d, want 3 (UTF-8)", f.id, enc)
				case nonASCII && ver < 4 && (enc != 1 || text[0] != 0xFF || text[1] != 0xFE):
					t.Errorf("%s: v2.%d non-ASCII encoding %d % x, want 1 + BOM", f.id, ver, enc, text[:2])
				}
				if enc == 0 {
					values[f.id] = string(text)
				}
			}
			if strings.Join(gotIDs, ",") != strings.Join(ids, ",") {
				t.Errorf("frame IDs %v, want %v", gotIDs, ids)
			}
			trk, pos := ids[6], ids[7]
			if values[trk] != "2/10" || values[pos] != "1/2" || values[ids[5]] != "1997" {
				t.Errorf("track %q disc %q year %q", values[trk], values[pos], values[ids[5]])
			}
			if 10+size >= len(data) || data[10+size] != 0xFF {
				t.Errorf("audio does not start right after the %d-byte tag", size)
			}
		})
	}
}

func TestMP3ID3v1(t *testing.T) {
	v1 := Tags{Title: "Gramophone", Artist: "Old Timer", Album: "Vintage", Year: 1930, Track: 4, Genre: "Oldies"}
	tests := []struct {
		name string
		tags Tags
		opt  MP3Options
		want Tags // what the ID3v1 tag holds
	}{
		{"v1 only", v1, MP3Options{ID3v1: true}, v1},
		{"v1 after v2.3", v1, MP3Options{ID3v2: 3, ID3v1: true}, v1},
		{"truncated and unknown genre", Tags{Title: strings.Repeat("t", 40), Artist: "A", Genre: "Not A Genre"},
			MP3Options{ID3v1: true}, Tags{Title: strings.Repeat("t", 30), Artist: "A"}},
		{"empty fields", Tags{}, MP3Options{ID3v1: true}, Tags{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opt.Frames = 2
			data := MP3(tt.tags, tt.opt)
			trailer := data[len(data)-128:]
			if string(trailer[:3]) != "TAG" || trailer[125] != 0 {
				t.Fatalf("no ID3v1.1 trailer: % x", trailer[:4])
			}
			// The ID3v1 tag alone: the file without its ID3v2 tag, if any.
			alone := data
			if tt.opt.ID3v2 != 0 {
				_, size, _ := walkID3v2(t, data)
				alone = data[10+size:]
			}
			if tt.want == (Tags{}) {
				// Nothing but NULs and genre 255 ("none"): an ID3v1 tag
				// with no value in it is no tag.
				if !bytes.Equal(trailer[3:127], make([]byte, 124)) || trailer[127] != 255 {
					t.Errorf("empty ID3v1 tag holds % x", trailer[3:])
				}
				got, err := readTags(alone)
				if !errors.Is(err, tags.ErrNoTags) || !equalTags(got, tags.Tags{Format: "mpeg"}) {
					t.Errorf("tags.Read = %+v, %v; want ErrNoTags in an mpeg", got, err)
				}
				return
			}
			checkTags(t, alone, tt.want, "mpeg", tags.ID3v1)
			if tt.opt.ID3v2 != 0 {
				// Both tags, as the scanner reads the file: every field the
				// ID3v2 tag has comes from it, ahead of the ID3v1 one.
				checkTags(t, data, tt.tags, "mpeg", id3v2Kind[tt.opt.ID3v2], tags.ID3v1)
			}
		})
	}
}

// TestID3v1GenresReadBack writes each of the generator's ID3v1 genres and
// reads it back: the generator spells them as mutagen and our reader do.
func TestID3v1GenresReadBack(t *testing.T) {
	for i, g := range id3v1Genres {
		data := MP3(Tags{Genre: g}, MP3Options{ID3v1: true, Frames: 1})
		if n := data[len(data)-1]; int(n) != i {
			t.Errorf("%q written as genre %d, want %d", g, n, i)
		}
		got, err := readTags(data)
		if err != nil || !slices.Equal(got.Genres, []string{g}) {
			t.Errorf("genre %d %q reads back as %q, %v", i, g, got.Genres, err)
		}
	}
}

func TestMP3NoTags(t *testing.T) {
	data := MP3(fullTags, MP3Options{Frames: 5})
	if data[0] != 0xFF {
		t.Fatalf("untagged MP3 starts with % x", data[:4])
	}
	if got, err := readTags(data); !errors.Is(err, tags.ErrNoTags) || !equalTags(got, tags.Tags{Format: "mpeg"}) {
		t.Errorf("tags.Read = %+v, %v; want ErrNoTags in an mpeg", got, err)
	}
}

// mp3Frames walks the MPEG audio frames of data from off to end and checks
// each is MPEG-1 Layer III 128 kbps 44.1 kHz with zero side information.
func mp3Frames(t *testing.T, data []byte, off, end int) (frames int) {
	t.Helper()
	var rem int
	for off < end {
		h := data[off : off+4]
		if h[0] != 0xFF || h[1] != 0xFB || h[2]&^0x02 != 0x90 || h[3] != 0x04 {
			t.Fatalf("frame %d at %d: header % x", frames, off, h)
		}
		// Padding follows the encoder's running remainder, so the average
		// frame length matches 128 kbps exactly.
		rem += 144 * 128000 % 44100
		wantPad := rem >= 44100
		if wantPad {
			rem -= 44100
		}
		pad := h[2]&0x02 != 0
		if pad != wantPad {
			t.Fatalf("frame %d: padding %v, want %v", frames, pad, wantPad)
		}
		n := 417
		if pad {
			n++
		}
		for i, b := range data[off+4 : off+4+32] {
			if b != 0 {
				t.Fatalf("frame %d: side info byte %d = %#x", frames, i, b)
			}
		}
		off += n
		frames++
	}
	if off != end {
		t.Fatalf("frames end at %d, want %d", off, end)
	}
	return frames
}

func TestMP3Frames(t *testing.T) {
	tests := []struct {
		name   string
		opt    MP3Options
		frames int
	}{
		{"default one second", MP3Options{}, 39},
		{"seconds", MP3Options{Seconds: 2.5, ID3v2: 4}, 96},
		{"frames", MP3Options{Frames: 100, ID3v2: 3, ID3v1: true}, 100},
		{"one frame", MP3Options{Frames: 1, ID3v2: 2}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := MP3(asciiTags, tt.opt)
			off, end := 0, len(data)
			if tt.opt.ID3v2 != 0 {
				_, size, _ := walkID3v2(t, data)
				off = 10 + size
			}
			if tt.opt.ID3v1 {
				end -= 128
			}
			if got := mp3Frames(t, data, off, end); got != tt.frames {
				t.Errorf("frames %d, want %d", got, tt.frames)
			}
		})
	}
}

func TestMP3DeterministicAndSeeded(t *testing.T) {
	opt := MP3Options{Frames: 4, ID3v2: 4}
	a := MP3(Tags{}, opt)
	if !bytes.Equal(a, MP3(Tags{}, opt)) {
		t.Errorf("same input, different bytes")
	}
	opt.Seed = 1
	if bytes.Equal(a, MP3(Tags{}, opt)) {
		t.Errorf("seeds 0 and 1 give identical files")
	}
}

func TestMP3WithFFmpeg(t *testing.T) {
	for _, tc := range []struct {
		name string
		tags Tags
		opt  MP3Options
		kind string
	}{
		{"v2.2", asciiTags, MP3Options{ID3v2: 2}, "id3v2.2"},
		{"v2.3", asciiTags, MP3Options{ID3v2: 3}, "id3v2"},
		{"v2.3 unicode", unicodeTags, MP3Options{ID3v2: 3}, "id3v2"},
		{"v2.3+v1", asciiTags, MP3Options{ID3v2: 3, ID3v1: true}, "id3v2"},
		{"v2.4", asciiTags, MP3Options{ID3v2: 4, Seed: 9}, "id3v2"},
		{"v2.4 unicode", unicodeTags, MP3Options{ID3v2: 4}, "id3v2"},
		{"v1", Tags{Title: "Gramophone", Artist: "Old Timer", Album: "Vintage", Year: 1930, Track: 1}, MP3Options{ID3v1: true}, "id3v1"},
		{"none", Tags{}, MP3Options{Seed: 4}, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.Seconds = 0.5
			data := MP3(tc.tags, tc.opt)
			path := writeTemp(t, "x.mp3", data)
			p := ffprobe(t, path)
			if len(p.Streams) != 1 || p.Streams[0].CodecName != "mp3" ||
				p.Streams[0].SampleRate != "44100" || p.Streams[0].Channels != 2 {
				t.Errorf("streams %+v", p.Streams)
			}
			checkProbeTags(t, p.Format.Tags, tc.tags, tc.kind)
			ffmpegNull(t, path)
			pcm := ffmpegDecode(t, path)
			frames := (int(0.5*SampleRate) + 1151) / 1152
			if len(pcm) < (frames-1)*1152*4 {
				t.Errorf("decoded %d samples, want about %d", len(pcm)/4, frames*1152)
			}
			if i := bytes.IndexFunc(pcm, func(r rune) bool { return r != 0 }); i >= 0 {
				t.Errorf("decoded audio is not silent at byte %d", i)
			}
		})
	}
}

func TestMP3LengthMatchesBitrate(t *testing.T) {
	// 441 frames of 128 kbps at 44.1 kHz: exactly 441*1152*128000/8/44100 bytes.
	data := MP3(Tags{}, MP3Options{Frames: 441})
	if want := 441 * 1152 * 128000 / 8 / 44100; len(data) != want {
		t.Errorf("441 frames = %d bytes, want %d", len(data), want)
	}
	if got := mp3AudioLen(441); got != int64(len(data)) {
		t.Errorf("mp3AudioLen(441) = %d, want %d", got, len(data))
	}
}
