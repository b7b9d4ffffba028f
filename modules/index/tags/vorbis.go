package tags

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	// maxFieldLen bounds the values read from Vorbis comments and MP4
	// atoms: a longer field (a picture, a garbage length) is skipped unread.
	maxFieldLen = 1 << 20
	// vorbisKeyPeek is how much of a field is read to learn its key: more
	// than the longest key we map, so that a picture or lyrics field costs
	// no more than this.
	vorbisKeyPeek = 32
)

// errPacketEnd is a field or block that runs past the end of its packet.
var errPacketEnd = errors.New("past the end of the packet")

// packet holds a Vorbis comment: a FLAC metadata block, or an Ogg packet
// spread over pages.
type packet interface {
	// read returns the next n bytes, valid until the next call.
	read(n int) ([]byte, error)
	// skip moves over the next n bytes without reading them.
	skip(n int64) error
}

// span is a packet in one run of the file, [pos, end).
type span struct {
	s        *source
	pos, end int64
}

func (p *span) read(n int) ([]byte, error) {
	if int64(n) > p.end-p.pos {
		return nil, errPacketEnd
	}
	b, err := p.s.full(p.pos, n)
	if err != nil {
		return nil, err
	}
	p.pos += int64(n)
	return b, nil
}

func (p *span) skip(n int64) error {
	if n > p.end-p.pos {
		return errPacketEnd
	}
	p.pos += n
	return nil
}

// vorbisComment reads a Vorbis comment: a vendor string, a count, then that
// many KEY=value fields, each prefixed by its length (little-endian). A
// repeated key is several values. It returns the fields read before any
// error, so a broken field loses itself and those after it only.
func vorbisComment(p packet) (Block, error) {
	blk := Block{Kind: Vorbis}
	n, err := vorbisUint32(p)
	if err == nil {
		err = p.skip(int64(n))
	}
	if err != nil {
		return blk, fmt.Errorf("vendor string: %w", err)
	}
	count, err := vorbisUint32(p)
	if err != nil {
		return blk, fmt.Errorf("field count: %w", err)
	}
	for i := range count {
		if err := vorbisField(p, &blk); err != nil {
			return blk, fmt.Errorf("field %d of %d: %w", i+1, count, err)
		}
	}
	return blk, nil
}

// vorbisField reads one field into blk. Only the first bytes of a field are
// read to find its key; the value is read only for a key we map, and a field
// longer than maxFieldLen is skipped whole.
func vorbisField(p packet, blk *Block) error {
	n, err := vorbisUint32(p)
	if err != nil {
		return err
	}
	if n > maxFieldLen {
		return p.skip(int64(n))
	}
	head, err := p.read(min(int(n), vorbisKeyPeek))
	if err != nil {
		return err
	}
	rest := int(n) - len(head)
	eq := bytes.IndexByte(head, '=')
	if eq < 0 {
		return p.skip(int64(rest)) // a key longer than any we map
	}
	field, ok := keyField(string(head[:eq]))
	if !ok || len(blk.Values[field]) >= maxValues {
		return p.skip(int64(rest))
	}
	value := append([]byte(nil), head[eq+1:]...) // head is reused by the next read
	if rest > 0 {
		b, err := p.read(rest)
		if err != nil {
			return err
		}
		value = append(value, b...)
	}
	blk.Add(field, utf8Text(value))
	return nil
}

func vorbisUint32(p packet) (uint32, error) {
	b, err := p.read(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}
