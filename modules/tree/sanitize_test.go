package tree

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSanitize(t *testing.T) {
	long := strings.Repeat("a", 300)
	longRunes := strings.Repeat("日", 100) // 300 bytes
	for _, tc := range []struct {
		name, in string
		file     bool
		want     string
	}{
		{"plain", "Blue Train (1957)", false, "Blue Train (1957)"},
		{"unicode", "Björk – Homogenic", false, "Björk – Homogenic"},
		{"slash", "AC/DC", false, "AC／DC"},
		{"only slash", "/", false, "／"},
		{"nul", "a\x00b", false, "ab"},
		{"controls", "\x01ab\x1fc\x7f", false, "abc"},
		{"tabs and line breaks are spaces", "a\tb\nc\r\nd\u2028e", false, "a b c  d e"},
		{"C1 controls", "Sch\u009cne \u0080Welt\u009f", false, "Schne Welt"},
		{"byte-order marks", "\uFEFFRock\uFEFF Live", false, "Rock Live"},
		{"zero-width and direction marks", "a\u200bb\u200ec\u202ed\u2066e\u2060f\u00adg", false, "abcdefg"},
		{"joiners between letters stay", "می\u200cخواهم 👨\u200d👩", false, "می\u200cخواهم 👨\u200d👩"},
		{"joiners at the edges go", "\u200dab\u200c \u200cc", false, "ab c"},
		{"soft hyphen only", "\u00ad", false, "_"},
		{"invalid utf8 as windows-1252", "a\xff\xfeb", false, "aÿþb"},
		{"trim", "  x \t", false, "x"},
		{"trim unicode space", "\u00a0x\u3000", false, "x"},
		{"dot", ".", false, "．"},
		{"dotdot", "..", false, "．．"},
		{"dotdot padded", " .. ", false, "．．"},
		{"dotdot with nul", ".\x00.", false, "．．"},
		{"three dots ok", "...", false, "..."},
		{"hidden file ok", ".hidden", true, ".hidden"},
		{"empty", "", false, "_"},
		{"only spaces", "   ", false, "_"},
		{"only controls", "\x00\x01", false, "_"},
		{"exactly 255", long[:255], false, long[:255]},
		{"long dir", long, false, long[:255]},
		{"long file keeps ext", long + ".flac", true, long[:250] + ".flac"},
		{"long dir ignores ext", long + ".flac", false, long[:255]},
		{"long runes", longRunes, false, strings.Repeat("日", 85)},
		{"long runes file", longRunes + ".mp3", true, strings.Repeat("日", 83) + ".mp3"},
		{"long with space at cut", long[:249] + " " + long[:100] + ".flac", true, long[:249] + ".flac"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := sanitize(tc.in, tc.file)
			if got != tc.want {
				t.Fatalf("sanitize(%q, %v)\n got %q\nwant %q", tc.in, tc.file, got, tc.want)
			}
			checkName(t, got)
			if again := sanitize(got, tc.file); again != got {
				t.Fatalf("not idempotent: %q -> %q", got, again)
			}
		})
	}
}

func TestWithSuffix(t *testing.T) {
	long := strings.Repeat("a", 300)
	for _, tc := range []struct {
		name string
		file bool
		n    int
		want string
	}{
		{"01 T.flac", true, 2, "01 T (2).flac"},
		{"README", true, 3, "README (3)"},
		{".flac", true, 2, ".flac (2)"},
		{"Vol. 2", true, 2, "Vol. 2 (2)"},
		{long[:250] + ".flac", true, 12, long[:245] + " (12).flac"},
		{long[:255], false, 2, long[:251] + " (2)"},
	} {
		got := withSuffix(tc.name, tc.n, tc.file)
		if got != tc.want {
			t.Errorf("withSuffix(%q, %d)\n got %q\nwant %q", tc.name, tc.n, got, tc.want)
		}
		checkName(t, got)
	}
}

// checkName asserts the invariants of every path element.
func checkName(t testing.TB, s string) {
	t.Helper()
	switch {
	case !utf8.ValidString(s):
		t.Fatalf("%q: invalid UTF-8", s)
	case len(s) > 255:
		t.Fatalf("%q: %d bytes", s, len(s))
	case strings.ContainsAny(s, "/\x00"):
		t.Fatalf("%q: contains / or NUL", s)
	case s == "" || s == "." || s == "..":
		t.Fatalf("%q: not a name", s)
	}
	rs := []rune(s)
	for i, r := range rs {
		joined := (r == 0x200c || r == 0x200d) && i > 0 && i < len(rs)-1 &&
			!unicode.Is(unicode.Cf, rs[i-1]) && !unicode.Is(unicode.Cf, rs[i+1])
		if unicode.IsControl(r) || r == 0x2028 || r == 0x2029 || unicode.Is(unicode.Cf, r) && !joined {
			t.Fatalf("%q: holds the invisible character %U", s, r)
		}
	}
}
