package tags

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

const oggPageHeader = 27 // the page header before its segment table

// readOgg reads the comment packet of the first logical stream, whose codec
// its first packet names. Pages of other streams are skipped, and so is
// everything after the comment packet.
func (f *file) readOgg(off int64) {
	h, err := f.s.full(off, oggPageHeader)
	if err != nil {
		f.fail(malformed("ogg", off, "first page: %v", err))
		return
	}
	o := &oggStream{s: f.s, serial: binary.LittleEndian.Uint32(h[14:]), next: off}
	id, err := o.read(8)
	if err != nil {
		f.fail(malformed("ogg", off, "first packet: %v", err))
		return
	}
	switch {
	case bytes.HasPrefix(id, []byte("\x01vorbis")):
		f.format = "ogg-vorbis"
		err = f.oggComment(o, "\x03vorbis")
	case string(id) == "OpusHead":
		f.format = "ogg-opus"
		err = f.oggComment(o, "OpusTags")
	case string(id) == "Speex   ":
		f.format = "ogg-speex"
		err = f.oggComment(o, "") // the second packet is a bare comment
	case bytes.HasPrefix(id, []byte("\x7fFLAC")):
		f.format = "ogg-flac"
		err = f.oggFLAC(o)
	default:
		f.noReader = true
		return
	}
	if err != nil {
		f.fail(malformed("ogg", o.page, "%s comment: %v", f.format, err))
	}
}

// oggComment reads the next packet as a Vorbis comment after magic.
func (f *file) oggComment(o *oggStream, magic string) error {
	if err := o.nextPacket(); err != nil {
		return err
	}
	if magic != "" {
		b, err := o.read(len(magic))
		if err != nil {
			return err
		}
		if string(b) != magic {
			return fmt.Errorf("second packet does not start with %q", magic)
		}
	}
	return f.comment(o)
}

// oggFLAC reads the comment of Ogg FLAC, whose header packets after the
// first are one FLAC metadata block each. The mapping puts the comment
// second, but we look until the last block.
func (f *file) oggFLAC(o *oggStream) error {
	for {
		if err := o.nextPacket(); err != nil {
			return err
		}
		h, err := o.read(4)
		if err != nil {
			return err
		}
		switch typ := h[0] & 0x7f; {
		case typ == flacVorbisComment:
			return f.comment(o)
		case typ == flacInvalid || h[0]&0x80 != 0:
			return nil // audio, or the last block
		}
	}
}

// comment reads a Vorbis comment from p; the fields before an error are kept.
func (f *file) comment(p packet) error {
	blk, err := vorbisComment(p)
	f.add(blk)
	return err
}

// oggStream reads the packets of one logical stream of an Ogg file. It
// reads page headers and segment tables as it goes, and page bodies only
// where asked to read: skipping over a packet, however many pages it spans,
// reads nothing but their headers. CRCs are not checked.
type oggStream struct {
	s      *source
	serial uint32
	page   int64 // the current page's offset
	next   int64 // the next page's offset
	lacing [255]byte
	nseg   int   // segments in the current page
	seg    int   // the next segment in lacing
	data   int64 // file offset of the next byte of the current segment
	left   int   // bytes left in the current segment
	ends   bool  // the current segment ends its packet
	buf    []byte
}

// read returns the next n bytes of the current packet, valid until the
// next call.
func (o *oggStream) read(n int) ([]byte, error) {
	o.buf = o.buf[:0]
	for len(o.buf) < n {
		if o.left == 0 {
			if err := o.segment(); err != nil {
				return nil, err
			}
			continue
		}
		k := min(o.left, n-len(o.buf))
		b, err := o.s.full(o.data, k)
		if err != nil {
			return nil, err
		}
		o.buf = append(o.buf, b...)
		o.data += int64(k)
		o.left -= k
	}
	return o.buf, nil
}

// skip moves over the next n bytes of the current packet.
func (o *oggStream) skip(n int64) error {
	for n > 0 {
		if o.left == 0 {
			if err := o.segment(); err != nil {
				return err
			}
			continue
		}
		k := min(int64(o.left), n)
		o.data += k
		o.left -= int(k)
		n -= k
	}
	return nil
}

// nextPacket skips the rest of the current packet, to the start of the
// next one.
func (o *oggStream) nextPacket() error {
	for {
		o.data += int64(o.left)
		o.left = 0
		if o.ends {
			o.ends = false
			return nil
		}
		if err := o.segment(); err != nil {
			return err
		}
	}
}

// segment moves to the next segment of the current packet: a lacing value
// of 255 continues the packet, a smaller one ends it.
func (o *oggStream) segment() error {
	if o.ends {
		return errPacketEnd
	}
	for o.seg == o.nseg {
		if err := o.nextPage(); err != nil {
			return err
		}
	}
	v := o.lacing[o.seg]
	o.seg++
	o.left, o.ends = int(v), v < 255
	return nil
}

// nextPage moves to the next page of the stream, skipping those of others.
func (o *oggStream) nextPage() error {
	for {
		h, err := o.s.peek(o.next, oggPageHeader+255) // the header and its segment table
		if err != nil {
			return err
		}
		if len(h) < oggPageHeader || len(h) < oggPageHeader+int(h[26]) {
			return fmt.Errorf("page at offset %d: %w", o.next, errShort)
		}
		if string(h[:4]) != "OggS" || h[4] != 0 {
			return fmt.Errorf("no Ogg page at offset %d", o.next)
		}
		serial, lacing := binary.LittleEndian.Uint32(h[14:]), h[oggPageHeader:oggPageHeader+int(h[26])]
		body := o.next + int64(oggPageHeader+len(lacing))
		o.page, o.next = o.next, body
		for _, v := range lacing {
			o.next += int64(v)
		}
		if serial == o.serial {
			o.nseg, o.seg, o.data = copy(o.lacing[:], lacing), 0, body
			return nil
		}
	}
}
