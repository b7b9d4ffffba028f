package audiogen

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"fmt"
	"io"
)

// FLACBlockSize is the fixed block size of generated FLAC streams; only the
// last frame may be shorter.
const FLACBlockSize = 4096

// FLACVendor is the vendor string of generated VORBIS_COMMENT blocks.
const FLACVendor = "musicfs audiogen"

const (
	flacStreamInfo    = 0
	flacPadding       = 1
	flacVorbisComment = 4

	// Offsets of the STREAMINFO fields only known after encoding.
	flacFrameSizeOffset = 12 // min and max frame size, 3 bytes each
	flacMD5Offset       = 26
	flacHeaderPatchEnd  = flacMD5Offset + md5.Size

	toneAmplitude = 1000 // about -30 dBFS: audible, never loud
)

// FLACOptions shapes the audio of a generated FLAC file.
type FLACOptions struct {
	// Seconds of audio, used when Samples is zero; both zero means
	// DefaultSeconds.
	Seconds float64
	// Samples per channel; overrides Seconds.
	Samples int64
	// Seed picks the tone's pitch and phase (or, with Silence, a DC level of
	// 0..15) so that tracks differ in bytes.
	Seed int64
	// Silence writes CONSTANT subframes instead of a VERBATIM tone: tiny
	// files (a few bytes per 4096 samples) that decode to silence.
	Silence bool
	// Padding adds a PADDING metadata block of this many bytes when > 0.
	Padding int
}

// FLAC returns a complete FLAC file: STREAMINFO (with the MD5 of the audio),
// a VORBIS_COMMENT block holding tags, optional PADDING, and fixed-blocksize
// frames of 16-bit stereo at 44.1 kHz.
func FLAC(tags Tags, opt FLACOptions) []byte {
	s := flacStream{samples: opt.Samples, seed: opt.Seed, silence: opt.Silence, comments: vorbisComments(tags), padding: -1}
	if s.samples <= 0 {
		s.samples = samplesFor(opt.Seconds)
	}
	if opt.Padding > 0 {
		s.padding = opt.Padding
	}
	return s.bytes()
}

// vorbisComments lists tags as FIELD=value in a fixed order.
func vorbisComments(t Tags) []string {
	var c []string
	for _, kv := range [...][2]string{
		{"TITLE", t.Title}, {"ARTIST", t.Artist}, {"ALBUMARTIST", t.AlbumArtist},
		{"ALBUM", t.Album}, {"GENRE", t.Genre}, {"DATE", yearString(t.Year)},
		{"TRACKNUMBER", positive(t.Track)}, {"TRACKTOTAL", positive(t.TrackTotal)},
		{"DISCNUMBER", positive(t.Disc)}, {"DISCTOTAL", positive(t.DiscTotal)},
	} {
		if kv[1] != "" {
			c = append(c, kv[0]+"="+kv[1])
		}
	}
	return c
}

// flacStream is one stream to encode. Comments are raw so that malformed
// files can carry invalid UTF-8.
type flacStream struct {
	samples  int64
	seed     int64
	silence  bool
	comments []string
	padding  int // PADDING block length; < 0 for none
}

// flacSummary holds the STREAMINFO fields known only after encoding.
type flacSummary struct {
	minFrame, maxFrame int
	md5                [md5.Size]byte
}

func (s *flacStream) bytes() []byte {
	var buf bytes.Buffer
	buf.Write(s.header(flacSummary{}))
	sum, err := s.writeFrames(&buf)
	if err != nil {
		panic(err) // bytes.Buffer does not fail
	}
	b := buf.Bytes()
	copy(b, s.header(sum)[:flacHeaderPatchEnd])
	return b
}

// header renders the marker and all metadata blocks.
func (s *flacStream) header(sum flacSummary) []byte {
	b := []byte("fLaC")
	b = appendBlockHeader(b, flacStreamInfo, false, 34)
	b = binary.BigEndian.AppendUint16(b, FLACBlockSize)
	b = binary.BigEndian.AppendUint16(b, FLACBlockSize)
	b = appendUint24(b, sum.minFrame)
	b = appendUint24(b, sum.maxFrame)
	const channels, bps = 2, 16
	b = binary.BigEndian.AppendUint64(b, SampleRate<<44|(channels-1)<<41|(bps-1)<<36|uint64(s.samples)&(1<<36-1))
	b = append(b, sum.md5[:]...)

	vc := binary.LittleEndian.AppendUint32(nil, uint32(len(FLACVendor)))
	vc = append(vc, FLACVendor...)
	vc = binary.LittleEndian.AppendUint32(vc, uint32(len(s.comments)))
	for _, c := range s.comments {
		vc = binary.LittleEndian.AppendUint32(vc, uint32(len(c)))
		vc = append(vc, c...)
	}
	b = appendBlockHeader(b, flacVorbisComment, s.padding < 0, len(vc))
	b = append(b, vc...)
	if s.padding >= 0 {
		b = appendBlockHeader(b, flacPadding, true, s.padding)
		b = append(b, make([]byte, s.padding)...)
	}
	return b
}

func appendBlockHeader(b []byte, typ byte, last bool, n int) []byte {
	if n >= 1<<24 {
		panic(fmt.Sprintf("audiogen: FLAC metadata block of %d bytes", n))
	}
	if last {
		typ |= 0x80
	}
	return appendUint24(append(b, typ), n)
}

func appendUint24(b []byte, n int) []byte {
	return append(b, byte(n>>16), byte(n>>8), byte(n))
}

// writeFrames encodes the audio to w and returns what STREAMINFO needs.
func (s *flacStream) writeFrames(w io.Writer) (flacSummary, error) {
	h := md5.New()
	sum := flacSummary{minFrame: 1<<24 - 1}
	tone := newTone(s.seed)
	var frame, pcm []byte
	var ch [2][]int16
	for num, first := int64(0), int64(0); first < s.samples; num, first = num+1, first+FLACBlockSize {
		n := int(min(FLACBlockSize, s.samples-first))
		for c := range ch {
			ch[c] = ch[c][:0]
			for i := range n {
				ch[c] = append(ch[c], s.sample(tone, first+int64(i), c))
			}
		}
		frame = s.appendFrame(frame[:0], uint64(num), ch)
		pcm = pcm[:0]
		for i := range n {
			for c := range ch {
				pcm = binary.LittleEndian.AppendUint16(pcm, uint16(ch[c][i]))
			}
		}
		h.Write(pcm)
		if _, err := w.Write(frame); err != nil {
			return flacSummary{}, err
		}
		sum.minFrame = min(sum.minFrame, len(frame))
		sum.maxFrame = max(sum.maxFrame, len(frame))
	}
	h.Sum(sum.md5[:0])
	return sum, nil
}

func (s *flacStream) sample(t tone, i int64, c int) int16 {
	if s.silence {
		return int16(uint64(s.seed) % 16)
	}
	return t.at(i, c)
}

// appendFrame encodes one frame: header with CRC-8, one subframe per
// channel, CRC-16 over the whole frame.
func (s *flacStream) appendFrame(b []byte, num uint64, ch [2][]int16) []byte {
	n := len(ch[0])
	var code byte
	switch {
	case n == FLACBlockSize:
		code = 12 // 256 << (12-8)
	case n <= 256:
		code = 6 // 8-bit (n-1) follows
	default:
		code = 7 // 16-bit (n-1) follows
	}
	const rate44k1, stereo, bits16 = 9, 1, 4
	b = append(b, 0xFF, 0xF8, code<<4|rate44k1, stereo<<4|bits16<<1)
	b = appendUTF8Num(b, num)
	switch code {
	case 6:
		b = append(b, byte(n-1))
	case 7:
		b = binary.BigEndian.AppendUint16(b, uint16(n-1))
	}
	b = append(b, crc8(b))
	for _, samples := range ch {
		if s.silence {
			b = append(b, 0x00) // CONSTANT, no wasted bits
			b = binary.BigEndian.AppendUint16(b, uint16(samples[0]))
			continue
		}
		b = append(b, 0x02) // VERBATIM, no wasted bits
		for _, v := range samples {
			b = binary.BigEndian.AppendUint16(b, uint16(v))
		}
	}
	// 16-bit samples after 8-bit headers keep the frame byte-aligned.
	return binary.BigEndian.AppendUint16(b, crc16(b))
}

// appendUTF8Num writes FLAC's frame number: UTF-8's scheme extended to 36
// bits (up to 7 bytes).
func appendUTF8Num(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	k := 2 // total bytes; k bytes carry 5k+1 bits
	for v >= 1<<(5*k+1) {
		k++
	}
	b = append(b, byte(0xFF)<<(8-k)|byte(v>>(6*(k-1))))
	for i := k - 2; i >= 0; i-- {
		b = append(b, 0x80|byte(v>>(6*i))&0x3F)
	}
	return b
}

// tone is a quiet triangle wave in integer arithmetic, so every platform
// produces the same bytes.
type tone struct {
	period, phase int64
}

func newTone(seed int64) tone {
	u := uint64(seed)
	return tone{period: 40 + int64(u%160), phase: int64(u / 160 % 4096)}
}

// at returns channel c's sample i; the right channel lags a quarter period.
func (t tone) at(i int64, c int) int16 {
	p := (i + t.phase + int64(c)*t.period/4) % t.period
	x := 4 * toneAmplitude * p / t.period // 0 .. 4A
	switch {
	case x < toneAmplitude:
		return int16(x)
	case x < 3*toneAmplitude:
		return int16(2*toneAmplitude - x)
	default:
		return int16(x - 4*toneAmplitude)
	}
}

var crc8Table, crc16Table = func() (t8 [256]byte, t16 [256]uint16) {
	for i := range 256 {
		c8, c16 := byte(i), uint16(i)<<8
		for range 8 {
			c8 = c8<<1 ^ 0x07*(c8>>7)
			c16 = c16<<1 ^ 0x8005*(c16>>15)
		}
		t8[i], t16[i] = c8, c16
	}
	return t8, t16
}()

// crc8 is FLAC's frame header CRC: polynomial x^8+x^2+x+1, initial 0.
func crc8(b []byte) byte {
	var c byte
	for _, x := range b {
		c = crc8Table[c^x]
	}
	return c
}

// crc16 is FLAC's frame CRC: polynomial x^16+x^15+x^2+1, initial 0.
func crc16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c = c<<8 ^ crc16Table[byte(c>>8)^x]
	}
	return c
}
