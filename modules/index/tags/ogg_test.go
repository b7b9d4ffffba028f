package tags

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"
	"strings"
	"testing"
)

// oggTestPage builds one page. The CRC is left zero: the reader does not
// check it.
func oggTestPage(serial, seq uint32, flags byte, lacing, body []byte) []byte {
	b := append([]byte("OggS"), 0, flags)
	b = binary.LittleEndian.AppendUint64(b, 0)
	b = binary.LittleEndian.AppendUint32(b, serial)
	b = binary.LittleEndian.AppendUint32(b, seq)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(b, byte(len(lacing)))
	b = append(b, lacing...)
	return append(b, body...)
}

// oggTestStream lays packets out in pages of at most maxSegs segments each,
// flagging the first page and those that continue a packet.
func oggTestStream(serial uint32, maxSegs int, packets ...[]byte) [][]byte {
	var lacing, body []byte
	for _, p := range packets {
		for n := len(p); ; n -= 255 {
			lacing = append(lacing, byte(min(n, 255)))
			if n < 255 {
				break
			}
		}
		body = append(body, p...)
	}
	var pages [][]byte
	flags := byte(0x02)
	for seq := uint32(0); len(lacing) > 0; seq++ {
		segs := lacing[:min(maxSegs, len(lacing))]
		n := 0
		for _, v := range segs {
			n += int(v)
		}
		pages = append(pages, oggTestPage(serial, seq, flags, segs, body[:n]))
		flags = 0
		if segs[len(segs)-1] == 255 {
			flags = 0x01
		}
		lacing, body = lacing[len(segs):], body[n:]
	}
	return pages
}

// oggTestPackets returns the header packets of a codec around a comment,
// then a packet standing for audio.
func oggTestPackets(codec string, comment []byte) [][]byte {
	audio := bytes.Repeat([]byte{0x55}, 600)
	switch codec {
	case "vorbis":
		id := append([]byte("\x01vorbis"), make([]byte, 23)...)
		c := append(append([]byte("\x03vorbis"), comment...), 1)
		return [][]byte{id, c, append([]byte("\x05vorbis"), make([]byte, 3000)...), audio}
	case "opus":
		id := append([]byte("OpusHead"), 1, 2, 0x38, 1, 0x80, 0xbb, 0, 0, 0, 0, 0)
		return [][]byte{id, append([]byte("OpusTags"), comment...), audio}
	case "speex":
		return [][]byte{append([]byte("Speex   "), make([]byte, 72)...), comment, audio}
	case "flac":
		id := append([]byte("\x7fFLAC\x01\x00\x00\x02fLaC"), flacTestBlock(0, make([]byte, 34))...)
		c := flacTestBlock(flacVorbisComment|0x80, comment)
		return [][]byte{id, flacTestBlock(1, make([]byte, 40)), c, append([]byte{0xFF, 0xF8}, audio...)}
	}
	return [][]byte{append([]byte("\x80theora"), make([]byte, 34)...), comment, audio}
}

func oggTestFile(codec string, maxSegs int, fields ...string) []byte {
	pages := oggTestStream(0x1234, maxSegs, oggTestPackets(codec, vorbisTestComment("enc", fields...))...)
	return bytes.Join(pages, nil)
}

func TestOgg(t *testing.T) {
	fields := []string{"TITLE=Jóga", "ARTIST=Björk", "ARTIST=Guest", "ALBUM=Homogenic", "DATE=1997", "TRACKNUMBER=2"}
	want := Tags{Title: "Jóga", Artists: []string{"Björk", "Guest"}, Album: "Homogenic", Year: 1997, Track: 2}
	tagged := func(format string) Tags {
		w := want
		w.Format, w.Blocks = format, []Kind{Vorbis}
		return w
	}
	// A second stream, with a comment of its own, interleaved with the first.
	other := oggTestStream(0x9999, 255, oggTestPackets("opus", vorbisTestComment("", "TITLE=other"))...)
	first := oggTestStream(0x1234, 1, oggTestPackets("vorbis", vorbisTestComment("", fields...))...)
	var interleaved []byte
	for i, p := range first {
		interleaved = append(interleaved, p...)
		if i < len(other) {
			interleaved = append(interleaved, other[i]...)
		}
	}
	badMagic := oggTestPackets("vorbis", vorbisTestComment("", fields...))
	badMagic[1][0] = 0x04
	tests := []struct {
		name    string
		data    []byte
		want    Tags
		wantErr error
	}{
		{"vorbis", oggTestFile("vorbis", 255, fields...), tagged("ogg-vorbis"), nil},
		{"opus", oggTestFile("opus", 255, fields...), tagged("ogg-opus"), nil},
		{"speex", oggTestFile("speex", 255, fields...), tagged("ogg-speex"), nil},
		{"flac", oggTestFile("flac", 255, fields...), tagged("ogg-flac"), nil},
		{"comment over many pages", oggTestFile("opus", 1, fields...), tagged("ogg-opus"), nil},
		{"another stream interleaved", interleaved, tagged("ogg-vorbis"), nil},
		{"unknown codec", oggTestFile("theora", 255, fields...), Tags{Format: "ogg"}, ErrNoReader},
		{"no comment header", bytes.Join(oggTestStream(1, 255, badMagic...), nil), Tags{Format: "ogg-vorbis"}, &FormatError{}},
		{"not a page after the first", append(oggTestStream(1, 255, badMagic[0])[0], "OggT"+strings.Repeat("x", 40)...),
			Tags{Format: "ogg-vorbis"}, &FormatError{}},
		{"first packet too short", oggTestPage(1, 0, 2, []byte{4}, []byte("Opus")), Tags{Format: "ogg"}, &FormatError{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := ReadLimit(bytes.NewReader(tt.data), int64(len(tt.data)), DefaultLimit)
			flacTestCheck(t, got, err, tt.want, tt.wantErr)
		})
	}
}

// oggTestReads records the offsets the source reads from.
type oggTestReads struct {
	r    io.ReaderAt
	offs []int64
}

func (o *oggTestReads) ReadAt(p []byte, off int64) (int, error) {
	o.offs = append(o.offs, off)
	return o.r.ReadAt(p, off)
}

// A multi-megabyte picture in the comment packet is skipped page by page:
// past the pages that hold the text, the file is read only where a page
// header starts. (Each such read still costs a whole window of the source.)
func TestOggSkipsPictures(t *testing.T) {
	const size = 5 << 20
	for _, maxSegs := range []int{16, 255} { // 4 KiB pages as libogg and mutagen write, 64 KiB as ffmpeg
		comment := vorbisTestComment("enc", "TITLE=t", "METADATA_BLOCK_PICTURE="+strings.Repeat("A", size), "ARTIST=a")
		pages := oggTestStream(7, maxSegs, oggTestPackets("opus", comment)...)
		data := bytes.Join(pages, nil)
		headers := map[int64]bool{}
		var off int64
		for _, p := range pages {
			headers[off], headers[off+oggPageHeader] = true, true
			off += int64(len(p))
		}
		reads := &oggTestReads{r: bytes.NewReader(data)}
		got, n, err := ReadLimit(reads, int64(len(data)), DefaultLimit)
		flacTestCheck(t, got, err, Tags{Title: "t", Artists: []string{"a"}, Format: "ogg-opus", Blocks: []Kind{Vorbis}}, nil)
		for _, o := range reads.offs {
			if o >= window && o < int64(len(data))-2*window && !headers[o] {
				t.Errorf("%d-segment pages: read at %d, inside a page body", maxSegs, o)
			}
		}
		t.Logf("%d-segment pages: %d reads, %d bytes of a %d-byte file", maxSegs, len(reads.offs), n, len(data))
	}
}

func TestOggTruncated(t *testing.T) {
	for _, codec := range []string{"vorbis", "opus", "speex", "flac"} {
		t.Run(codec, func(t *testing.T) {
			readersTestPrefixes(t, oggTestFile(codec, 3, "TITLE=t", "ARTIST=a", "ARTIST=b"))
		})
	}
}

func FuzzOgg(f *testing.F) {
	for _, codec := range []string{"vorbis", "opus", "speex", "flac"} {
		f.Add(oggTestFile(codec, 2, "TITLE=t", "ARTIST=a", "ARTIST=b"))
	}
	f.Add(bytes.Join(slices.Concat(oggTestStream(1, 255, oggTestPackets("opus", nil)[0]),
		oggTestStream(2, 255, oggTestPackets("vorbis", vorbisTestComment("", "TITLE=x"))...)), nil))
	readersTestFuzz(f)
}
