package audiogen

import (
	"bufio"
	"io"
	"strconv"
)

const (
	mp3FrameSamples = 1152
	mp3Bitrate      = 128000
	mp3SideInfo     = 32 // MPEG-1 stereo
	// A 128 kbps frame is 417.96 bytes: 417 plus a padding byte whenever the
	// running remainder overflows, as encoders do.
	mp3FrameLen   = 144 * mp3Bitrate / SampleRate
	mp3FrameRem   = 144 * mp3Bitrate % SampleRate
	mp3MaxFrame   = mp3FrameLen + 1
	mp3SeedPrefix = "audiogen seed "
)

// MP3Options shapes a generated MP3 file.
type MP3Options struct {
	// Seconds of audio, used when Frames is zero; both zero means
	// DefaultSeconds. It is rounded up to whole 1152-sample frames.
	Seconds float64
	// Frames of audio; overrides Seconds.
	Frames int
	// ID3v2 is the version of the leading ID3v2 tag: 2, 3 or 4; 0 for none.
	ID3v2 int
	// ID3v1 appends a 128-byte ID3v1.1 tag.
	ID3v1 bool
	// Seed is written as ASCII into the ancillary data of the first frame,
	// where decoders ignore it, so that otherwise equal tracks differ.
	Seed int64
	// ID3Padding is the number of zero bytes after the ID3v2 frames; at
	// least 16 are always written.
	ID3Padding int
}

func (o MP3Options) frames() int64 {
	if o.Frames > 0 {
		return int64(o.Frames)
	}
	return (samplesFor(o.Seconds) + mp3FrameSamples - 1) / mp3FrameSamples
}

// MP3 returns an MPEG-1 Layer III file, 128 kbps, 44.1 kHz stereo, whose
// frames have all-zero side information: every decoder outputs silence.
// It panics if opt.ID3v2 is not 0, 2, 3 or 4.
func MP3(tags Tags, opt MP3Options) []byte {
	var b []byte
	if opt.ID3v2 != 0 {
		b = id3v2Tag(opt.ID3v2, id3v2Frames(opt.ID3v2, tags), opt.ID3Padding)
	}
	b = appendMP3Frames(b, opt.frames(), opt.Seed)
	if opt.ID3v1 {
		b = append(b, id3v1Tag(tags)...)
	}
	return b
}

// mp3Padded reports whether frame i carries the padding byte.
func mp3Padded(i int64) bool {
	return (i+1)*mp3FrameRem/SampleRate > i*mp3FrameRem/SampleRate
}

// mp3AudioLen is the byte length of n frames.
func mp3AudioLen(n int64) int64 {
	return n*mp3FrameLen + n*mp3FrameRem/SampleRate
}

// mp3Frame renders frame i into a buffer of mp3MaxFrame bytes and returns
// it resliced to the frame's length.
func mp3Frame(buf *[mp3MaxFrame]byte, i, seed int64) []byte {
	*buf = [mp3MaxFrame]byte{}
	n := mp3FrameLen
	// MPEG-1, Layer III, no CRC; 128 kbps, 44.1 kHz; stereo, original.
	buf[0], buf[1], buf[2], buf[3] = 0xFF, 0xFB, 0x90, 0x04
	if mp3Padded(i) {
		buf[2] |= 0x02
		n++
	}
	if i == 0 {
		// After the side info nothing is main data (part2_3_length is 0), so
		// these bytes are ancillary; ASCII never forms a sync word.
		s := mp3SeedPrefix + strconv.FormatInt(seed, 10)
		copy(buf[n-len(s):n], s)
	}
	return buf[:n]
}

func appendMP3Frames(b []byte, n, seed int64) []byte {
	var buf [mp3MaxFrame]byte
	for i := range n {
		b = append(b, mp3Frame(&buf, i, seed)...)
	}
	return b
}

func writeMP3Frames(w io.Writer, n, seed int64) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	var buf [mp3MaxFrame]byte
	for i := range n {
		if _, err := bw.Write(mp3Frame(&buf, i, seed)); err != nil {
			return err
		}
	}
	return bw.Flush()
}
