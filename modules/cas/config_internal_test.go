package cas

import "testing"

// cache.passthrough: off means every daemon read is checked.
func TestPassthroughOffVerifiesReads(t *testing.T) {
	for p, want := range map[string]bool{PassthroughAuto: false, PassthroughOff: true} {
		if got := (Config{Passthrough: p}).withDefaults().VerifyReads; got != want {
			t.Errorf("cache.passthrough: %s gives VerifyReads %v", p, got)
		}
	}
}
