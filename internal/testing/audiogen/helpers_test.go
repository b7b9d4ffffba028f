package audiogen

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// writeTemp stores data in a fresh file named name and returns its path.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type probeResult struct {
	Streams []struct {
		CodecName  string `json:"codec_name"`
		SampleRate string `json:"sample_rate"`
		Channels   int    `json:"channels"`
	} `json:"streams"`
	Format struct {
		Tags map[string]string `json:"tags"`
	} `json:"format"`
}

// ffprobe returns the stream and format tags ffprobe sees; tag keys are
// lower-cased because ffmpeg keeps Vorbis comment keys as written.
func ffprobe(t *testing.T, path string) probeResult {
	t.Helper()
	bin := mounttest.RequireTool(t, "ffprobe")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "-v", "error", "-show_entries",
		"format_tags:stream=codec_name,sample_rate,channels", "-of", "json", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffprobe %s: %v: %s", path, err, stderr.String())
	}
	var r probeResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("ffprobe %s: parse %q: %v", path, stdout.String(), err)
	}
	tags := make(map[string]string, len(r.Format.Tags))
	for k, v := range r.Format.Tags {
		tags[strings.ToLower(k)] = v
	}
	r.Format.Tags = tags
	return r
}

// ffmpegDecode decodes path fully to interleaved s16le PCM and fails on any
// error output, as `ffmpeg -v error -i FILE -f null -` would.
func ffmpegDecode(t *testing.T, path string) []byte {
	t.Helper()
	bin := mounttest.RequireTool(t, "ffmpeg")
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "-nostdin", "-v", "error", "-i", path, "-f", "s16le", "-acodec", "pcm_s16le", "-")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg decode %s: %v: %s", path, err, stderr.String())
	}
	return stdout.Bytes()
}

// ffmpegNull runs exactly the decoder check the brief asks for.
func ffmpegNull(t *testing.T, path string) {
	t.Helper()
	bin := mounttest.RequireTool(t, "ffmpeg")
	out, err := exec.Command(bin, "-nostdin", "-v", "error", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("ffmpeg -f null %s: %v: %s", path, err, out)
	}
}

// The reference CRCs below are bit-at-a-time on purpose: the generator uses
// tables, so a shared mistake is unlikely.
func refCRC8(b []byte) byte {
	var c byte
	for _, x := range b {
		c ^= x
		for range 8 {
			if c&0x80 != 0 {
				c = c<<1 ^ 0x07
			} else {
				c <<= 1
			}
		}
	}
	return c
}

func refCRC16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c ^= uint16(x) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x8005
			} else {
				c <<= 1
			}
		}
	}
	return c
}

func TestReferenceCRCs(t *testing.T) {
	// Catalogue check values: CRC-8 (poly 07) and CRC-16/UMTS (poly 8005).
	if got := refCRC8([]byte("123456789")); got != 0xF4 {
		t.Errorf("refCRC8 = %#x, want 0xf4", got)
	}
	if got := refCRC16([]byte("123456789")); got != 0xFEE8 {
		t.Errorf("refCRC16 = %#x, want 0xfee8", got)
	}
}

// flacInfo is what the independent FLAC reader below found in a stream.
type flacInfo struct {
	minBlock, maxBlock int
	minFrame, maxFrame int
	rate, channels     int
	bps                int
	total              int64
	md5                [16]byte
	blockTypes         []byte
	vendor             string
	comments           []string
	frames             int
	decoded            int64    // samples per channel found in frames
	pcmMD5             [16]byte // of the decoded samples, as STREAMINFO defines it
	pcm                []byte   // interleaved s16le
	realMin, realMax   int      // frame sizes actually found
}

// readFLAC parses a whole FLAC stream written by this package (fixed
// blocksize, CONSTANT/VERBATIM subframes, 16-bit stereo), checking every
// header, CRC-8 and CRC-16 on the way.
func readFLAC(t *testing.T, data []byte) flacInfo {
	t.Helper()
	var fi flacInfo
	if !bytes.HasPrefix(data, []byte("fLaC")) {
		t.Fatalf("no fLaC marker")
	}
	pos := 4
	for last := false; !last; {
		if pos+4 > len(data) {
			t.Fatalf("metadata block header at %d past end", pos)
		}
		last = data[pos]&0x80 != 0
		typ := data[pos] & 0x7F
		n := int(data[pos+1])<<16 | int(data[pos+2])<<8 | int(data[pos+3])
		pos += 4
		if pos+n > len(data) {
			t.Fatalf("metadata block type %d length %d past end", typ, n)
		}
		body := data[pos : pos+n]
		pos += n
		fi.blockTypes = append(fi.blockTypes, typ)
		switch typ {
		case 0:
			if n != 34 {
				t.Fatalf("STREAMINFO length %d", n)
			}
			fi.minBlock = int(binary.BigEndian.Uint16(body[0:]))
			fi.maxBlock = int(binary.BigEndian.Uint16(body[2:]))
			fi.minFrame = int(body[4])<<16 | int(body[5])<<8 | int(body[6])
			fi.maxFrame = int(body[7])<<16 | int(body[8])<<8 | int(body[9])
			v := binary.BigEndian.Uint64(body[10:])
			fi.rate = int(v >> 44)
			fi.channels = int(v>>41&7) + 1
			fi.bps = int(v>>36&31) + 1
			fi.total = int64(v & (1<<36 - 1))
			copy(fi.md5[:], body[18:])
		case 4:
			vl := int(binary.LittleEndian.Uint32(body))
			fi.vendor = string(body[4 : 4+vl])
			p := 4 + vl
			count := int(binary.LittleEndian.Uint32(body[p:]))
			p += 4
			for range count {
				cl := int(binary.LittleEndian.Uint32(body[p:]))
				fi.comments = append(fi.comments, string(body[p+4:p+4+cl]))
				p += 4 + cl
			}
			if p != n {
				t.Fatalf("VORBIS_COMMENT has %d trailing bytes", n-p)
			}
		}
	}
	if len(fi.blockTypes) == 0 || fi.blockTypes[0] != 0 {
		t.Fatalf("first metadata block is not STREAMINFO: %v", fi.blockTypes)
	}
	h := md5.New()
	var pcm []byte
	fi.realMin = 1 << 30
	for pos < len(data) {
		start := pos
		if len(data)-pos < 6 || data[pos] != 0xFF || data[pos+1] != 0xF8 {
			t.Fatalf("frame %d at %d: bad sync % x", fi.frames, pos, data[pos:min(pos+4, len(data))])
		}
		bsCode, srCode := data[pos+2]>>4, data[pos+2]&0xF
		chCode, ssCode, reserved := data[pos+3]>>4, data[pos+3]>>1&7, data[pos+3]&1
		if srCode != 9 || chCode != 1 || ssCode != 4 || reserved != 0 {
			t.Fatalf("frame %d: rate %d chan %d size %d reserved %d", fi.frames, srCode, chCode, ssCode, reserved)
		}
		pos += 4
		num, n := refUTF8Num(t, data[pos:])
		pos += n
		if num != uint64(fi.frames) {
			t.Fatalf("frame %d carries number %d", fi.frames, num)
		}
		var bs int
		switch {
		case bsCode == 6:
			bs = int(data[pos]) + 1
			pos++
		case bsCode == 7:
			bs = int(binary.BigEndian.Uint16(data[pos:])) + 1
			pos += 2
		case bsCode >= 8:
			bs = 256 << (bsCode - 8)
		default:
			t.Fatalf("frame %d: unexpected blocksize code %d", fi.frames, bsCode)
		}
		if got := refCRC8(data[start:pos]); got != data[pos] {
			t.Fatalf("frame %d: header CRC-8 %#x, want %#x", fi.frames, data[pos], got)
		}
		pos++
		samples := make([][]int16, 2)
		for ch := range samples {
			kind := data[pos]
			pos++
			switch kind {
			case 0x00: // CONSTANT
				v := int16(binary.BigEndian.Uint16(data[pos:]))
				pos += 2
				for range bs {
					samples[ch] = append(samples[ch], v)
				}
			case 0x02: // VERBATIM
				for i := range bs {
					samples[ch] = append(samples[ch], int16(binary.BigEndian.Uint16(data[pos+2*i:])))
				}
				pos += 2 * bs
			default:
				t.Fatalf("frame %d channel %d: subframe header %#x", fi.frames, ch, kind)
			}
		}
		if got := refCRC16(data[start:pos]); got != binary.BigEndian.Uint16(data[pos:]) {
			t.Fatalf("frame %d: CRC-16 %#x, want %#x", fi.frames, binary.BigEndian.Uint16(data[pos:]), got)
		}
		pos += 2
		for i := range bs {
			for ch := range samples {
				pcm = binary.LittleEndian.AppendUint16(pcm, uint16(samples[ch][i]))
			}
		}
		h.Write(pcm[len(pcm)-4*bs:])
		if bs != fi.maxBlock && pos != len(data) {
			t.Fatalf("frame %d: blocksize %d in the middle of a fixed-blocksize stream", fi.frames, bs)
		}
		fi.decoded += int64(bs)
		fi.frames++
		fi.realMin = min(fi.realMin, pos-start)
		fi.realMax = max(fi.realMax, pos-start)
	}
	copy(fi.pcmMD5[:], h.Sum(nil))
	fi.pcm = pcm
	return fi
}

// refUTF8Num decodes FLAC's extended UTF-8 frame number.
func refUTF8Num(t *testing.T, b []byte) (uint64, int) {
	t.Helper()
	n := 0
	for n < 8 && b[0]&(0x80>>n) != 0 {
		n++
	}
	if n == 0 {
		return uint64(b[0]), 1
	}
	if n == 1 || n > 7 {
		t.Fatalf("bad UTF-8 lead byte %#x", b[0])
	}
	v := uint64(b[0] & (0xFF >> (n + 1)))
	for i := 1; i < n; i++ {
		if b[i]&0xC0 != 0x80 {
			t.Fatalf("bad UTF-8 continuation %#x", b[i])
		}
		v = v<<6 | uint64(b[i]&0x3F)
	}
	return v, n
}

// id3Frames walks an ID3v2 tag at the start of data and returns its frame
// IDs, bodies and encoding bytes, using the version's own size rules.
type rawID3Frame struct {
	id   string
	body []byte
}

func walkID3v2(t *testing.T, data []byte) (version int, size int, frames []rawID3Frame) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("ID3")) {
		t.Fatalf("no ID3v2 header")
	}
	version = int(data[3])
	size = syncsafe(data[6:10])
	end := 10 + size
	pos := 10
	for pos < end {
		if data[pos] == 0 {
			for _, b := range data[pos:end] {
				if b != 0 {
					t.Fatalf("non-zero byte in padding at %d", pos)
				}
			}
			break
		}
		var id string
		var n int
		switch version {
		case 2:
			id = string(data[pos : pos+3])
			n = int(data[pos+3])<<16 | int(data[pos+4])<<8 | int(data[pos+5])
			pos += 6
		case 3:
			id = string(data[pos : pos+4])
			n = int(binary.BigEndian.Uint32(data[pos+4:]))
			pos += 10
		case 4:
			id = string(data[pos : pos+4])
			n = syncsafe(data[pos+4 : pos+8])
			pos += 10
		default:
			t.Fatalf("ID3v2 version %d", version)
		}
		if pos+n > end {
			t.Fatalf("frame %s size %d runs past the tag end", id, n)
		}
		frames = append(frames, rawID3Frame{id, data[pos : pos+n]})
		pos += n
	}
	return version, size, frames
}

func syncsafe(b []byte) int {
	var n int
	for _, x := range b {
		n = n<<7 | int(x&0x7F)
	}
	return n
}
