package cas

import (
	"testing"

	"go.uber.org/zap/zaptest"
)

// A background loop that panics is logged and run again; one that returns
// is not.
func TestSuperviseRestartsAPanickingLoop(t *testing.T) {
	s := &Store{log: zaptest.NewLogger(t)}
	runs := 0
	s.supervise("test loop", make(chan struct{}), func() {
		if runs++; runs == 1 {
			panic("injected")
		}
	})
	if runs != 2 {
		t.Fatalf("loop ran %d times, want 2 (once more after its panic)", runs)
	}
	done := make(chan struct{})
	close(done)
	runs = 0
	s.supervise("test loop", done, func() { runs++; panic("injected") })
	if runs != 1 {
		t.Fatalf("loop ran %d times after Stop, want 1", runs)
	}
}
