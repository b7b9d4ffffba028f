package app_test

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

func testConfig(t *testing.T) *app.Config {
	t.Helper()
	cfg, err := app.Load([]string{"--mountpoint", filepath.Join(t.TempDir(), "m"), "--origin", "lib=" + t.TempDir(),
		"--state-dir", t.TempDir(), "--cache-dir", t.TempDir()}, nil)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestGraphIsValid(t *testing.T) {
	if err := fx.ValidateApp(app.Options(testConfig(t))); err != nil {
		t.Fatal(err)
	}
}

// hooks records which OnStart and OnStop hooks ran, in order.
type hooks struct {
	mu           sync.Mutex
	starts, stop []string
}

func (h *hooks) LogEvent(e fxevent.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch e := e.(type) {
	case *fxevent.OnStartExecuted:
		h.starts = append(h.starts, e.FunctionName)
	case *fxevent.OnStopExecuted:
		h.stop = append(h.stop, e.FunctionName)
	}
}

// The design's order: the mountpoint is cleared before mounting, the tree
// exists before the mount, SIGHUP is handled before READY (a service manager
// may send it at once), READY goes last and STOPPING first.
func TestStartAndStopOrder(t *testing.T) {
	mounttest.RequireFUSE(t)
	cfg := testConfig(t)
	mounttest.CleanupMount(t, cfg.FS.Mountpoint)
	h := &hooks{}
	fxtest.New(t, app.Options(cfg), fx.WithLogger(func() fxevent.Logger { return h })).RequireStart().RequireStop()

	want := []string{"logging.", "janitor.", "cas.", "origins.(*Registry)", "index.", "tree.", "fusefs.", "app.(*hangup).", "notify."}
	check := func(what string, got []string, want []string) {
		t.Helper()
		pos := -1
		for _, w := range want {
			i := indexContaining(got, w)
			if i < 0 {
				t.Fatalf("%s: no hook from %s in %q", what, w, got)
			}
			if i < pos {
				t.Fatalf("%s: %s ran out of order: %q", what, w, got)
			}
			pos = i
		}
	}
	check("start", h.starts, want)
	// The janitor has nothing to stop.
	check("stop", h.stop, []string{"notify.", "fusefs.", "tree.", "index.", "origins.(*Registry)", "cas.", "logging."})
}

func indexContaining(list []string, sub string) int {
	for i, s := range list {
		if strings.Contains(s, "modules/"+sub) || strings.Contains(s, "/"+sub) {
			return i
		}
	}
	return -1
}
