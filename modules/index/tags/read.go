package tags

import (
	"errors"
	"io"
	"slices"
)

// Read reads the tags of a file of size bytes through r, reading at most
// DefaultLimit bytes.
func Read(r io.ReaderAt, size int64) (Tags, error) {
	t, _, err := ReadLimit(r, size, DefaultLimit)
	return t, err
}

// ReadLimit is Read with a limit on the bytes read; it also returns how many
// bytes it read. A malformed block is skipped and the others are kept: the
// error is nil whenever any block gave a value. Otherwise it is the first
// malformed block's *FormatError, ErrNoTags, ErrNoReader or
// ErrUnknownFormat. An error of r (or ErrTooLarge) is returned as it is,
// whatever was read before it.
func ReadLimit(r io.ReaderAt, size, limit int64) (Tags, int64, error) {
	f := &file{s: newSource(r, size, limit)}
	f.parse()
	if f.s.err != nil {
		return Tags{}, f.s.fetched, f.s.err
	}
	if len(f.blocks) == 0 {
		switch {
		case len(f.errs) > 0:
			return Tags{Format: f.format}, f.s.fetched, f.errs[0]
		case f.format == "":
			return Tags{}, f.s.fetched, ErrUnknownFormat
		case f.noReader:
			return Tags{Format: f.format}, f.s.fetched, ErrNoReader
		}
		return Tags{Format: f.format}, f.s.fetched, ErrNoTags
	}
	t := merge(f.blocks)
	t.Format = f.format
	return t, f.s.fetched, nil
}

// file is one parse in progress.
type file struct {
	s        *source
	format   string // "" while unrecognised
	noReader bool   // a known format whose tags we do not read
	blocks   []Block
	errs     []error // malformed blocks, skipped
}

// add keeps b if it holds any value.
func (f *file) add(b Block) {
	if !b.empty() {
		f.blocks = append(f.blocks, b)
	}
}

// fail records a malformed block; an error of the source itself is not
// recorded (Read returns it anyway).
func (f *file) fail(err error) {
	if err != nil && f.s.err == nil {
		f.errs = append(f.errs, err)
	}
}

// modSignatures are the four bytes at offset 1080 of a ProTracker-style
// module.
var modSignatures = []string{"M.K.", "M!K!", "M&K!", "FLT4", "FLT8", "4CHN", "6CHN", "8CHN", "CD81", "OKTA", "16CN", "32CN"}

// parse recognises the container by its first bytes (after any ID3v2 tags,
// which some taggers put in front of anything) and runs its reader, then
// looks for the tags kept at the end of files (APEv2, ID3v1) in the formats
// that carry them.
func (f *file) parse() {
	off := f.leadingID3v2()
	head, err := f.s.at(off, 64)
	if err != nil {
		return
	}
	is := func(at int, s string) bool { return len(head) >= at+len(s) && string(head[at:at+len(s)]) == s }
	tail := false
	switch {
	case is(0, "fLaC"):
		f.format = "flac"
		f.readFLAC(off)
		tail = true
	case is(0, "OggS"):
		f.format = "ogg"
		f.readOgg(off)
	case (is(0, "RIFF") || is(0, "RF64") || is(0, "BW64")) && is(8, "WAVE"):
		f.format = "wav"
		f.readRIFF(off)
	case is(0, "FORM") && (is(8, "AIFF") || is(8, "AIFC")):
		f.format = "aiff"
		f.readAIFF(off)
	case is(0, "FRM8") && is(12, "DSD "):
		f.format = "dff"
		f.readDFF(off)
	case is(0, "DSD "):
		f.format = "dsf"
		f.readDSF(off)
	case is(4, "ftyp"):
		f.format = "mp4"
		f.readMP4(off)
	case is(0, "\x1A\x45\xDF\xA3"): // EBML
		f.format = "matroska"
		f.readMatroska(off)
	case len(head) >= 16 && [16]byte(head) == asfHeaderGUID:
		f.format = "asf"
		f.readASF(off)
	case is(0, "MThd"):
		f.format, f.noReader = "midi", true
	case is(0, "IMPM"), is(0, "Extended Module: "), is(44, "SCRM"), f.isMOD(off):
		f.format = "module"
		f.readModule(off)
	default:
		tail = true
		switch {
		case is(0, "MAC "):
			f.format = "ape"
		case is(0, "wvpk"):
			f.format = "wavpack"
		case is(0, "MPCK"), is(0, "MP+"):
			f.format = "musepack"
		case is(0, "TTA1"):
			f.format = "tta"
		case is(0, "OFR "):
			f.format = "optimfrog"
		case is(0, "ADIF"):
			f.format = "aac"
		case len(head) >= 2 && head[0] == 0xFF && head[1]&0xE0 == 0xE0:
			f.format = "mpeg" // MP3, MP2 or ADTS AAC
		case off > 0:
			f.format = "mpeg" // an ID3v2 tag, then something we do not know
		}
	}
	if tail {
		f.readTail()
	}
}

func (f *file) isMOD(off int64) bool {
	b, err := f.s.at(off+1080, 4)
	if err != nil || len(b) < 4 {
		return false
	}
	return slices.Contains(modSignatures, string(b))
}

// leadingID3v2 reads the ID3v2 tags at the start of the file (a tagger
// that does not find one may write a second in front of it) and returns
// where the content after them starts.
func (f *file) leadingID3v2() int64 {
	var off int64
	for range 4 {
		n, ok := f.readID3v2(off)
		if !ok {
			break
		}
		off += n
		// Padding after a tag is sometimes left out of its size.
		for {
			b, err := f.s.at(off, 512)
			if err != nil || len(b) == 0 {
				return off
			}
			i := 0
			for i < len(b) && b[i] == 0 {
				i++
			}
			off += int64(i)
			if i < len(b) {
				break
			}
		}
	}
	return off
}

// errShort is a block that ends before its declared size.
var errShort = errors.New("truncated")
