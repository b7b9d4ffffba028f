package tags

import (
	"encoding/binary"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// cleanValue trims whitespace and NULs around a value and drops byte-order
// marks anywhere in it: a BOM is an encoding artefact, never text.
func cleanValue(v string) string {
	if strings.ContainsRune(v, '\uFEFF') {
		v = strings.ReplaceAll(v, "\uFEFF", "")
	}
	return strings.TrimFunc(v, func(r rune) bool { return r == 0 || unicode.IsSpace(r) })
}

// cp1252 maps bytes 0x80–0x9F as Windows-1252 does (0 where it has no
// character): what "Latin-1" means in tags written on Windows, as in HTML.
var cp1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// latin1 decodes ISO-8859-1 text (with Windows-1252 in 0x80–0x9F).
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
		r := rune(c)
		if c >= 0x80 && c < 0xA0 {
			if r = cp1252[c-0x80]; r == 0 {
				continue
			}
		}
		sb.WriteRune(r)
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
