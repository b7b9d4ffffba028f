package tags

import (
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/musicfs/musicfs/internal/cp1252"
)

// cleanValue trims whitespace and NULs around a value and drops byte-order
// marks anywhere in it: a BOM is an encoding artefact, never text.
func cleanValue(v string) string {
	if strings.ContainsRune(v, '\uFEFF') {
		v = strings.ReplaceAll(v, "\uFEFF", "")
	}
	return strings.TrimFunc(v, func(r rune) bool { return r == 0 || unicode.IsSpace(r) })
}

// latin1 decodes ISO-8859-1 text, as Windows-1252 (bytes it leaves
// undefined are dropped).
func latin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/2)
	for _, c := range b {
		if r, ok := cp1252.Rune(c); ok {
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// utf8Text decodes text that claims to be UTF-8; text that is not valid
// UTF-8 was almost always written as Latin-1 by an old tagger.
func utf8Text(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return latin1(b)
}

// utf16Text decodes UTF-16 text. A leading byte-order mark sets the byte
// order, else bigEndian does; an odd trailing byte is dropped.
func utf16Text(b []byte, bigEndian bool) string {
	if len(b) >= 2 {
		switch {
		case b[0] == 0xFF && b[1] == 0xFE:
			b, bigEndian = b[2:], false
		case b[0] == 0xFE && b[1] == 0xFF:
			b, bigEndian = b[2:], true
		}
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = binary.BigEndian.Uint16(b[2*i:])
		} else {
			u[i] = binary.LittleEndian.Uint16(b[2*i:])
		}
	}
	return string(utf16.Decode(u))
}

// splitUTF16 splits UTF-16 text at NUL code units (two zero bytes at an
// even offset), the separator of several values.
func splitUTF16(b []byte) [][]byte {
	var out [][]byte
	start := 0
	for i := 0; i+1 < len(b); i += 2 {
		if b[i] == 0 && b[i+1] == 0 {
			out = append(out, b[start:i])
			start = i + 2
		}
	}
	return append(out, b[start:])
}

// splitNUL splits at NUL bytes.
func splitNUL(s string) []string {
	return strings.Split(s, "\x00")
}
