package tree

import "testing"

// Bytes that are not UTF-8 in a name are read as Windows-1252 (Latin-1 with
// printable characters for 0x80–0x9F): what old Samba and NFS shares hold,
// shown as it was written rather than as a row of U+FFFD.
func TestSanitizeInvalidUTF8AsWindows1252(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"latin-1", "Caf\xe9", "Café"},
		{"latin-1 file", "\xe9t\xe9.flac", "été.flac"},
		{"every latin-1 letter", "\xc0\xc9\xd1\xd6\xdf\xe0\xe7\xf1\xf6\xff", "ÀÉÑÖßàçñöÿ"},
		{"windows-1252 punctuation", "\x80 \x85 \x91x\x92 \x93y\x94 \x96 \x99", "€ … ‘x’ “y” – ™"},
		{"undefined in windows-1252", "a\x81\x8d\x8f\x90\x9db", "a\uFFFD\uFFFD\uFFFD\uFFFD\uFFFDb"},
		{"no-break spaces trimmed", "\xa0x\xa0", "x"},
		{"soft hyphen removed", "a\xadb", "ab"},
		{"mixed with utf-8", "Café \xe9t\xe9", "Café été"},
		{"utf-8 cut short", "ab\xc3", "abÃ"},
		{"bytes of a utf-8 letter apart", "\xa9\xc3", "©Ã"},
		{"a literal U+FFFD stays", "a\uFFFDb", "a\uFFFDb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sanitize(tc.in, true)
			if got != tc.want {
				t.Fatalf("sanitize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
			checkName(t, got)
			if again := sanitize(got, true); again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}
