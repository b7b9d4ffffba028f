// Package cp1252 decodes Windows-1252, the superset of Latin-1 that Windows
// and Samba wrote: what "Latin-1" means in old tags and on old shares.
package cp1252

// high maps the bytes 0x80–0x9F, where Windows-1252 differs from Latin-1
// (whose C1 controls no text holds); 0 where it defines no character.
var high = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// Rune returns the character c stands for, and false for the five bytes
// Windows-1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D).
func Rune(c byte) (rune, bool) {
	if c >= 0x80 && c < 0xA0 {
		r := high[c-0x80]
		return r, r != 0
	}
	return rune(c), true // Latin-1: the byte is the code point
}
