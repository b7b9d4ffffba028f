package audiogen

import (
	"bytes"
	"crypto/md5"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/musicfs/musicfs/modules/index/tags"
)

var fullTags = Tags{
	Title: "Blue Train", Artist: "John Coltrane", AlbumArtist: "John Coltrane",
	Album: "Blue Train", Genre: "Jazz", Year: 1957,
	Track: 1, TrackTotal: 3, Disc: 1, DiscTotal: 2,
}

var unicodeTags = Tags{
	Title: "戦場のメリークリスマス", Artist: "坂本龍一", AlbumArtist: "Björk",
	Album: "Jóga/Homogenic", Genre: "Électronique", Year: 1997, Track: 2,
}

func TestFLACTagsReadBack(t *testing.T) {
	tests := []struct {
		name string
		tags Tags
		want []string // the exact Vorbis comments, in order
	}{
		{"full", fullTags, []string{
			"TITLE=Blue Train", "ARTIST=John Coltrane", "ALBUMARTIST=John Coltrane",
			"ALBUM=Blue Train", "GENRE=Jazz", "DATE=1957", "TRACKNUMBER=1",
			"TRACKTOTAL=3", "DISCNUMBER=1", "DISCTOTAL=2",
		}},
		{"unicode", unicodeTags, []string{
			"TITLE=戦場のメリークリスマス", "ARTIST=坂本龍一", "ALBUMARTIST=Björk",
			"ALBUM=Jóga/Homogenic", "GENRE=Électronique", "DATE=1997", "TRACKNUMBER=2",
		}},
		{"title only", Tags{Title: ".."}, []string{"TITLE=.."}},
		{"empty", Tags{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := FLAC(tt.tags, FLACOptions{Seconds: 0.1})
			fi := readFLAC(t, data)
			if fi.vendor != FLACVendor {
				t.Errorf("vendor %q", fi.vendor)
			}
			if !slices.Equal(fi.comments, tt.want) {
				t.Errorf("comments\n got %q\nwant %q", fi.comments, tt.want)
			}
			if tt.tags == (Tags{}) {
				// A comment block with no comment in it is no tag.
				got, err := readTags(data)
				if !errors.Is(err, tags.ErrNoTags) || !equalTags(got, tags.Tags{Format: "flac"}) {
					t.Errorf("tags.Read = %+v, %v; want ErrNoTags in a flac", got, err)
				}
				return
			}
			checkTags(t, data, tt.tags, "flac", tags.Vorbis)
		})
	}
}

// readTags reads data with our tag reader, the one the scanner uses.
func readTags(data []byte) (tags.Tags, error) {
	return tags.Read(bytes.NewReader(data), int64(len(data)))
}

// checkTags reads data with our tag reader and compares everything it
// reports with what was written: every field, the container (tags.Tags'
// Format) and the tag blocks found, richest first. A generated file holds
// one artist, one album artist and one genre, so each reads as a list of
// one; nothing writes a compilation flag.
func checkTags(t *testing.T, data []byte, want Tags, format string, blocks ...tags.Kind) {
	t.Helper()
	got, err := readTags(data)
	if err != nil {
		t.Fatalf("tags.Read: %v", err)
	}
	list := func(s string) []string {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	exp := tags.Tags{
		Title: want.Title, Artists: list(want.Artist), AlbumArtists: list(want.AlbumArtist),
		Album: want.Album, Genres: list(want.Genre), Year: want.Year,
		Track: want.Track, TrackTotal: want.TrackTotal, Disc: want.Disc, DiscTotal: want.DiscTotal,
		Format: format, Blocks: blocks,
	}
	if !equalTags(got, exp) {
		t.Errorf("tags read back\n got %+v\nwant %+v", got, exp)
	}
}

func equalTags(a, b tags.Tags) bool {
	return a.Title == b.Title && slices.Equal(a.Artists, b.Artists) &&
		slices.Equal(a.AlbumArtists, b.AlbumArtists) && a.Album == b.Album &&
		slices.Equal(a.Genres, b.Genres) && a.Year == b.Year &&
		a.Track == b.Track && a.TrackTotal == b.TrackTotal &&
		a.Disc == b.Disc && a.DiscTotal == b.DiscTotal && a.Compilation == b.Compilation &&
		a.Format == b.Format && slices.Equal(a.Blocks, b.Blocks)
}

func TestFLACStream(t *testing.T) {
	tests := []struct {
		name       string
		opt        FLACOptions
		samples    int64
		frames     int
		wantBlocks []byte
	}{
		{"default one second", FLACOptions{}, 44100, 11, []byte{0, 4}},
		{"seconds", FLACOptions{Seconds: 0.5, Seed: 3}, 22050, 6, []byte{0, 4}},
		{"one sample", FLACOptions{Samples: 1}, 1, 1, []byte{0, 4}},
		{"short last block", FLACOptions{Samples: 4096 + 300}, 4396, 2, []byte{0, 4}},
		{"exact blocks", FLACOptions{Samples: 3 * 4096}, 3 * 4096, 3, []byte{0, 4}},
		{"silence", FLACOptions{Samples: 10000, Silence: true, Seed: 5}, 10000, 3, []byte{0, 4}},
		{"padding", FLACOptions{Samples: 5000, Padding: 100}, 5000, 2, []byte{0, 4, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := FLAC(fullTags, tt.opt)
			fi := readFLAC(t, data)
			if !slices.Equal(fi.blockTypes, tt.wantBlocks) {
				t.Errorf("metadata blocks %v, want %v", fi.blockTypes, tt.wantBlocks)
			}
			if fi.minBlock != FLACBlockSize || fi.maxBlock != FLACBlockSize {
				t.Errorf("block sizes %d..%d", fi.minBlock, fi.maxBlock)
			}
			if fi.rate != SampleRate || fi.channels != 2 || fi.bps != 16 {
				t.Errorf("rate %d channels %d bps %d", fi.rate, fi.channels, fi.bps)
			}
			if fi.total != tt.samples || fi.decoded != tt.samples {
				t.Errorf("STREAMINFO total %d, decoded %d, want %d", fi.total, fi.decoded, tt.samples)
			}
			if fi.frames != tt.frames {
				t.Errorf("frames %d, want %d", fi.frames, tt.frames)
			}
			if fi.md5 != fi.pcmMD5 {
				t.Errorf("STREAMINFO MD5 %x, samples hash to %x", fi.md5, fi.pcmMD5)
			}
			if fi.minFrame != fi.realMin || fi.maxFrame != fi.realMax {
				t.Errorf("STREAMINFO frame sizes %d..%d, real %d..%d", fi.minFrame, fi.maxFrame, fi.realMin, fi.realMax)
			}
			silent := !bytes.ContainsFunc(fi.pcm, func(r rune) bool { return r != 0 })
			if tt.opt.Silence {
				// CONSTANT subframes: a DC level of at most 15, i.e. silence.
				for i := 0; i+1 < len(fi.pcm); i += 2 {
					if v := int16(fi.pcm[i]) | int16(fi.pcm[i+1])<<8; v < 0 || v > 15 {
						t.Fatalf("silence sample %d = %d", i/2, v)
					}
				}
				if fi.maxFrame > 32 {
					t.Errorf("CONSTANT frames should be tiny, max %d bytes", fi.maxFrame)
				}
			} else if silent && tt.samples > 100 {
				t.Errorf("tone is all zeros")
			}
		})
	}
}

func TestFLACToneIsQuiet(t *testing.T) {
	fi := readFLAC(t, FLAC(Tags{}, FLACOptions{Seed: 99}))
	var peak int16
	for i := 0; i+1 < len(fi.pcm); i += 2 {
		v := int16(fi.pcm[i]) | int16(fi.pcm[i+1])<<8
		peak = max(peak, v, -v)
	}
	if peak == 0 || peak > 2000 {
		t.Errorf("tone peak %d, want a low but audible level", peak)
	}
}

func TestFLACDeterministicAndSeeded(t *testing.T) {
	for _, silence := range []bool{false, true} {
		a := FLAC(fullTags, FLACOptions{Seed: 1, Silence: silence})
		if !bytes.Equal(a, FLAC(fullTags, FLACOptions{Seed: 1, Silence: silence})) {
			t.Errorf("silence=%v: same input, different bytes", silence)
		}
		b := FLAC(fullTags, FLACOptions{Seed: 2, Silence: silence})
		if md5.Sum(a) == md5.Sum(b) {
			t.Errorf("silence=%v: seeds 1 and 2 give identical files", silence)
		}
	}
}

func TestFLACFrameNumberEncoding(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 2047, 2048, 65535, 65536, 1<<21 - 1, 1 << 21, 1<<26 - 1, 1 << 26, 1<<31 - 1, 1 << 31, 1<<36 - 1} {
		b := appendUTF8Num(nil, v)
		got, n := refUTF8Num(t, b)
		if got != v || n != len(b) {
			t.Errorf("%d encodes as % x, decodes to %d (%d bytes)", v, b, got, n)
		}
	}
}

func TestFLACWithFFmpeg(t *testing.T) {
	tests := []struct {
		name string
		tags Tags
		opt  FLACOptions
	}{
		{"full tone", fullTags, FLACOptions{Seconds: 0.3, Seed: 7}},
		{"unicode silence", unicodeTags, FLACOptions{Seconds: 0.2, Silence: true, Seed: 3}},
		{"short", Tags{Title: "Short"}, FLACOptions{Samples: 100}},
		{"padding", fullTags, FLACOptions{Samples: 9000, Padding: 1024}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := FLAC(tt.tags, tt.opt)
			path := writeTemp(t, "x.flac", data)
			p := ffprobe(t, path)
			if len(p.Streams) != 1 || p.Streams[0].CodecName != "flac" ||
				p.Streams[0].SampleRate != "44100" || p.Streams[0].Channels != 2 {
				t.Errorf("streams %+v", p.Streams)
			}
			checkProbeTags(t, p.Format.Tags, tt.tags, "flac")
			ffmpegNull(t, path)
			// ffmpeg's own decode must hash to STREAMINFO's MD5: this checks
			// the frames and the MD5 against a second decoder.
			fi := readFLAC(t, data)
			if got := md5.Sum(ffmpegDecode(t, path)); got != fi.md5 {
				t.Errorf("ffmpeg PCM MD5 %x, STREAMINFO %x", got, fi.md5)
			}
		})
	}
}

// checkProbeTags compares ffprobe's format tags with what was written. kind
// is "flac", "id3v2", "id3v2.2" or "id3v1": ffmpeg names fields alike but
// formats numbers per container.
func checkProbeTags(t *testing.T, got map[string]string, want Tags, kind string) {
	t.Helper()
	exp := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			exp[k] = v
		}
	}
	set("title", want.Title)
	set("artist", want.Artist)
	set("album_artist", want.AlbumArtist)
	set("album", want.Album)
	set("genre", want.Genre)
	if want.Year > 0 {
		set("date", strconv.Itoa(want.Year))
	}
	switch kind {
	case "flac":
		if want.Track > 0 {
			set("track", strconv.Itoa(want.Track))
		}
		if want.TrackTotal > 0 {
			set("tracktotal", strconv.Itoa(want.TrackTotal))
		}
		if want.Disc > 0 {
			set("disc", strconv.Itoa(want.Disc))
		}
		if want.DiscTotal > 0 {
			set("disctotal", strconv.Itoa(want.DiscTotal))
		}
	default:
		set("track", xOfN(want.Track, want.TrackTotal))
		switch kind {
		case "id3v2":
			set("disc", xOfN(want.Disc, want.DiscTotal))
		case "id3v2.2":
			// ffmpeg maps no v2.2 frame to "disc" and shows TPA as is.
			set("tpa", xOfN(want.Disc, want.DiscTotal))
		}
	}
	for k, v := range exp {
		if got[k] != v {
			t.Errorf("ffprobe tag %s = %q, want %q", k, got[k], v)
		}
	}
	for k := range got {
		if _, ok := exp[k]; !ok && !strings.HasPrefix(k, "encoder") && k != "comment" {
			t.Errorf("ffprobe shows unexpected tag %s=%q", k, got[k])
		}
	}
}
