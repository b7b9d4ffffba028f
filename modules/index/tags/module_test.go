package tags

import (
	"errors"
	"testing"
)

// moduleTestFile is a module header of n bytes with magic at magicAt and
// title at titleAt.
func moduleTestFile(n int, magic string, magicAt int, title string, titleAt int) []byte {
	b := make([]byte, n)
	copy(b[magicAt:], magic)
	copy(b[titleAt:], title)
	return b
}

func moduleTestIT(title string) []byte  { return moduleTestFile(192, "IMPM", 0, title, 4) }
func moduleTestXM(title string) []byte  { return moduleTestFile(80, "Extended Module: ", 0, title, 17) }
func moduleTestS3M(title string) []byte { return moduleTestFile(96, "SCRM", 44, title, 0) }
func moduleTestMOD(title string) []byte { return moduleTestFile(1084+1024, "M.K.", 1080, title, 0) }

func TestModule(t *testing.T) {
	for _, tc := range []struct {
		name, format, want string
		file               []byte
	}{
		{"impulse tracker", "it", "Into the Void", moduleTestIT("Into the Void\x00\x00")},
		{"fast tracker", "xm", "Café", moduleTestXM("Caf\xe9               ")},
		{"scream tracker", "s3m", "Full Twenty-Eight Characters", moduleTestS3M("Full Twenty-Eight Characters")},
		{"protracker, junk after the NUL", "mod", "Space Debris", moduleTestMOD("Space Debris\x00junk")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			readersTestEqual(t, readersTestRead(t, tc.file), Tags{Title: tc.want, Format: tc.format, Blocks: []Kind{Module}})
		})
	}
	tags, err := readersTestCheck(t, moduleTestXM("   "), DefaultLimit)
	if !errors.Is(err, ErrNoTags) || tags.Format != "xm" {
		t.Errorf("untitled: %+v, %v; want ErrNoTags for an xm", tags, err)
	}
}

func TestModuleTruncated(t *testing.T) {
	for _, file := range [][]byte{moduleTestIT("T"), moduleTestXM("T"), moduleTestS3M("T"), moduleTestMOD("T")[:1100]} {
		readersTestPrefixes(t, file)
	}
}

func FuzzModule(f *testing.F) {
	readersTestFuzz(f, moduleTestIT("T"), moduleTestXM("T"), moduleTestS3M("T"), moduleTestMOD("T")[:1084])
}
