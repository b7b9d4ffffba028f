package logging

import (
	"context"
	"testing"

	"go.uber.org/fx/fxevent"
)

func TestHooksNameTheStuckHook(t *testing.T) {
	h := NewHooks()
	for _, e := range []fxevent.Event{
		&fxevent.OnStopExecuting{FunctionName: "notify.Stop"},
		&fxevent.OnStopExecuted{FunctionName: "notify.Stop"},
		&fxevent.OnStopExecuting{FunctionName: "fusefs.Stop"},
	} {
		h.observe(e)
	}
	if got := h.Stuck(); got != "fusefs.Stop" {
		t.Fatalf("while running: %q", got)
	}
	h.observe(&fxevent.OnStopExecuted{FunctionName: "fusefs.Stop", Err: context.DeadlineExceeded})
	h.observe(&fxevent.OnStopExecuting{FunctionName: "tree.Stop"})
	h.observe(&fxevent.OnStopExecuted{FunctionName: "tree.Stop"})
	if got := h.Stuck(); got != "fusefs.Stop" {
		t.Fatalf("after it failed: %q", got)
	}
}
