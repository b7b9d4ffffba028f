package tree

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/musicfs/musicfs/internal/cp1252"
)

// maxName is the longest name, in bytes, that Linux filesystems accept.
const maxName = 255

// maxExt bounds what counts as an extension worth keeping when a name is
// truncated or suffixed; anything longer is more likely part of the title.
const maxExt = 16

// sanitize turns s into a name usable as one path element: '/' becomes
// U+FF0F (as rclone does), control characters (C0, DEL, C1) and invisible
// format characters (byte-order marks, zero-width spaces, direction marks)
// are removed, tabs and line breaks become spaces, a byte that is not part
// of valid UTF-8 is read as Windows-1252 (see decodeRune), surrounding
// whitespace is trimmed, "." and ".." become full-width dots, and names
// longer than maxName bytes are cut at a rune boundary (keeping the
// extension when isFile). An empty result becomes "_".
func sanitize(s string, isFile bool) string {
	if s = clean(s, isFile); s == "" {
		return "_"
	}
	return s
}

// clean is sanitize without the "_" fallback, so that callers can choose a
// better one.
func clean(s string, isFile bool) string {
	if isClean(s) {
		return s
	}
	s = scrub(s)
	switch s {
	case ".":
		return "．"
	case "..":
		return "．．"
	}
	return truncate(s, maxName, isFile)
}

// scrub replaces '/' and decodes invalid UTF-8, removes control and
// invisible characters, turns tabs and line breaks into spaces and trims
// surrounding whitespace.
func scrub(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/2) // a Windows-1252 byte takes 2 or 3 in UTF-8
	prev := rune(' ')
	for i := 0; i < len(s); {
		r, size := decodeRune(s[i:])
		next, _ := decodeRune(s[i+size:])
		switch {
		case r == '\t' || r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case invisible(r) && !(joiner(r) && visible(prev) && visible(next)):
		case r == '/':
			b.WriteRune('／')
		default:
			b.WriteRune(r)
		}
		prev = r
		i += size
	}
	return strings.TrimSpace(b.String())
}

// decodeRune is utf8.DecodeRuneInString, except that a byte that does not
// start a valid UTF-8 sequence is read as Windows-1252, the superset of
// Latin-1 that Windows and Samba wrote: names from old shares and
// mislabelled tags then read as they were written ("Caf\xe9" is "Café")
// instead of as a row of U+FFFD, and names that differ in those bytes stay
// apart. Bytes Windows-1252 leaves undefined become U+FFFD.
func decodeRune(s string) (rune, int) {
	r, size := utf8.DecodeRuneInString(s)
	if r != utf8.RuneError || size != 1 {
		return r, size
	}
	if r, ok := cp1252.Rune(s[0]); ok {
		return r, 1
	}
	return utf8.RuneError, 1
}

// invisible reports whether r is a control character or an invisible
// format character (Unicode Cf: U+FEFF, U+200B, U+200E, U+2066, …), which
// no name should hold: they make names that look alike differ.
func invisible(r rune) bool {
	return r < 0x20 || r >= 0x7f && r < 0xa0 || unicode.Is(unicode.Cf, r)
}

// joiner: ZWNJ and ZWJ are part of the spelling of Persian and Indic words
// and of emoji sequences; between two visible characters they stay.
func joiner(r rune) bool { return r == '\u200c' || r == '\u200d' }

func visible(r rune) bool {
	return r != utf8.RuneError && !invisible(r) && !unicode.IsSpace(r)
}

// isClean reports whether s is already a valid name, without allocating.
func isClean(s string) bool {
	n := len(s)
	if n == 0 || n > maxName || s == "." || s == ".." {
		return false
	}
	ascii := true
	for i := 0; i < n; i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '/' {
			return false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	if ascii {
		return s[0] != ' ' && s[n-1] != ' '
	}
	prev := rune(' ')
	for i, r := range s {
		if r == utf8.RuneError || r == '\u2028' || r == '\u2029' {
			return false // invalid UTF-8 (or a literal U+FFFD: scrub keeps it)
		}
		if invisible(r) {
			next, _ := utf8.DecodeRuneInString(s[i+utf8.RuneLen(r):])
			if !joiner(r) || !visible(prev) || !visible(next) {
				return false
			}
		}
		prev = r
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	return !unicode.IsSpace(first) && !unicode.IsSpace(last)
}

// extOf returns the extension of a file name including the dot, or "" when
// the name has none worth keeping.
func extOf(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || len(name)-i > maxExt || strings.ContainsFunc(name[i:], unicode.IsSpace) {
		return ""
	}
	return name[i:]
}

// truncate cuts s to at most limit bytes at a rune boundary, keeping the
// extension of files. s must be trimmed.
func truncate(s string, limit int, isFile bool) string {
	if len(s) <= limit {
		return s
	}
	ext := ""
	if isFile {
		ext = extOf(s)
	}
	base := s[:len(s)-len(ext)]
	return cutBase(base, limit-len(ext)) + ext
}

// cutBase shortens base to at most room bytes at a rune boundary, dropping
// whitespace the cut leaves at the end.
func cutBase(base string, room int) string {
	if len(base) <= room {
		return base
	}
	for room > 0 && !utf8.RuneStart(base[room]) {
		room--
	}
	return strings.TrimRightFunc(base[:room], unicode.IsSpace)
}

// withSuffix inserts " (n)" before the extension of a sanitised name,
// shortening the name so that the result still fits in maxName bytes.
func withSuffix(name string, n int, isFile bool) string {
	ext := ""
	if isFile {
		ext = extOf(name)
	}
	suffix := " (" + strconv.Itoa(n) + ")"
	base := cutBase(name[:len(name)-len(ext)], maxName-len(suffix)-len(ext))
	return base + suffix + ext
}
