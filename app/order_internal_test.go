package app

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

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
// may send it at once), READY goes last and STOPPING first; the rescans
// start after READY. It follows from dependencies, so the order in which
// the modules are listed does not change it.
func TestStartAndStopOrder(t *testing.T) {
	mounttest.RequireFUSE(t)
	for _, tc := range []struct {
		name string
		list []fx.Option
	}{{"as listed", modules}, {"reversed", reversed(modules)}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load([]string{"--mountpoint", filepath.Join(t.TempDir(), "m"), "--origin", "lib=" + t.TempDir(),
				"--state-dir", t.TempDir(), "--cache-dir", t.TempDir()}, nil)
			if err == nil {
				err = cfg.Validate()
			}
			if err != nil {
				t.Fatal(err)
			}
			mounttest.CleanupMount(t, cfg.FS.Mountpoint)
			h := &hooks{}
			fxtest.New(t, fx.Supply(cfg), fx.Options(tc.list...), fx.WithLogger(func() fxevent.Logger { return h })).
				RequireStart().RequireStop()

			// Each pair: the first starts before the second and stops after it.
			for _, p := range [][2]string{
				{"logging.", "metrics."}, {"logging.", "cas."}, {"logging.", "origins.(*Registry)"},
				{"janitor.", "fusefs."},
				{"cas.", "cache."}, {"tree.", "cache."}, {"cas.", "fusefs."}, {"cas.", "prefetch."},
				{"origins.(*Registry)", "index.(*Index).Start-"}, {"index.(*Index).Start-", "tree."}, {"tree.", "fusefs."},
				{"origins.(*Registry)", "origins.(*Watcher)"}, {"origins.(*Watcher)", "app.(*follow)"},
				{"fusefs.", "notify."}, {"app.(*hangup)", "notify."}, {"app.(*follow)", "notify."},
				{"notify.", "index.(*Index).StartScanning"},
			} {
				before(t, "start", h.starts, p[0], p[1])
				// The janitor and the rescans have no stop hook.
				if !strings.HasPrefix(p[0], "janitor.") && !strings.HasPrefix(p[1], "index.(*Index).StartScanning") {
					before(t, "stop", h.stop, strings.Replace(p[1], "Start-", "Stop-", 1), strings.Replace(p[0], "Start-", "Stop-", 1))
				}
			}
		})
	}
}

func reversed(list []fx.Option) []fx.Option {
	out := slices.Clone(list)
	slices.Reverse(out)
	return out
}

// before fails unless a hook matching a ran before one matching b.
func before(t *testing.T, what string, got []string, a, b string) {
	t.Helper()
	i, j := indexContaining(got, a), indexContaining(got, b)
	switch {
	case i < 0 || j < 0:
		t.Errorf("%s: no hook from %s or %s in %q", what, a, b, got)
	case i > j:
		t.Errorf("%s: %s ran after %s: %q", what, a, b, got)
	}
}

func indexContaining(list []string, sub string) int {
	for i, s := range list {
		if strings.Contains(s, "modules/"+sub) || strings.Contains(s, "/"+sub) {
			return i
		}
	}
	return -1
}
