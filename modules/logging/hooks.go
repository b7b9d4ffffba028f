package logging

import (
	"sync"

	"go.uber.org/fx/fxevent"
)

// Hooks follows fx's lifecycle events so that a start or stop that runs out
// of time can say which hook it was waiting for: fx itself reports only
// "context deadline exceeded".
type Hooks struct {
	mu      sync.Mutex // guards running and failed
	running string     // the hook running now; guarded by mu
	failed  string     // the last hook that returned an error; guarded by mu
}

// NewHooks returns an empty tracker.
func NewHooks() *Hooks { return &Hooks{} }

// Stuck names the hook running now or, if none is, the last one that failed.
func (h *Hooks) Stuck() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.running != "" {
		return h.running
	}
	return h.failed
}

func (h *Hooks) observe(e fxevent.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch e := e.(type) {
	case *fxevent.OnStartExecuting:
		h.running = e.FunctionName
	case *fxevent.OnStopExecuting:
		h.running = e.FunctionName
	case *fxevent.OnStartExecuted:
		h.done(e.FunctionName, e.Err)
	case *fxevent.OnStopExecuted:
		h.done(e.FunctionName, e.Err)
	}
}

func (h *Hooks) done(name string, err error) {
	h.running = ""
	if err != nil {
		h.failed = name
	}
}

// hookLogger passes every event on after noting it in Hooks.
type hookLogger struct {
	fxevent.Logger
	hooks *Hooks
}

func (l hookLogger) LogEvent(e fxevent.Event) {
	l.hooks.observe(e)
	l.Logger.LogEvent(e)
}
