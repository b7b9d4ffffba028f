package supervise_test

import (
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/musicfs/musicfs/internal/supervise"
)

// A background loop that panics is logged and run again; one that returns
// is not; once done is closed a panicking loop is not restarted.
func TestLoopRestartsAPanickingLoop(t *testing.T) {
	core, logs := observer.New(zapcore.ErrorLevel)
	log := zap.New(core)
	runs := 0
	supervise.Loop(log, "test loop", make(chan struct{}), func() {
		if runs++; runs == 1 {
			panic("injected")
		}
	})
	if runs != 2 {
		t.Fatalf("loop ran %d times, want 2 (once more after its panic)", runs)
	}
	entries := logs.All()
	if len(entries) != 1 || entries[0].ContextMap()["task"] != "test loop" || entries[0].ContextMap()["stack"] == "" {
		t.Fatalf("want one log naming the task with a stack, got %v", entries)
	}
	done := make(chan struct{})
	close(done)
	runs = 0
	supervise.Loop(log, "test loop", done, func() { runs++; panic("injected") })
	if runs != 1 {
		t.Fatalf("loop ran %d times after done, want 1", runs)
	}
}

func TestProtectReportsWhetherFnReturned(t *testing.T) {
	log := zap.NewNop()
	if !supervise.Protect(log, "ok", func() {}) {
		t.Fatal("a returning fn reported as panicked")
	}
	if supervise.Protect(log, "boom", func() { panic("boom") }) {
		t.Fatal("a panicking fn reported as returned")
	}
}
