package cp1252

import "testing"

func TestRune(t *testing.T) {
	for c, want := range map[byte]rune{'a': 'a', 0xE9: 'é', 0xFF: 'ÿ', 0xA0: '\u00a0', 0x80: '€', 0x92: '’', 0x9F: 'Ÿ'} {
		if r, ok := Rune(c); !ok || r != want {
			t.Errorf("Rune(%#x) = %q, %v; want %q", c, r, ok, want)
		}
	}
	for _, c := range []byte{0x81, 0x8D, 0x8F, 0x90, 0x9D} {
		if r, ok := Rune(c); ok {
			t.Errorf("Rune(%#x) = %q, want undefined", c, r)
		}
	}
}
