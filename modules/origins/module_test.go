package origins_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/musicfs/musicfs/modules/origins"
)

func TestModuleStartsWithAnOfflineOrigin(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	here := t.TempDir()
	gone := filepath.Join(t.TempDir(), "unmounted")
	cfg := origins.Config{
		Origins: []origins.OriginConfig{
			{Name: "local", Path: here},
			{Name: "nas", Path: gone},
		},
		ReadTimeout: time.Second,
	}
	var set origins.Set
	app := fxtest.New(t,
		origins.Module,
		fx.Supply(cfg),
		fx.Provide(func() *zap.Logger { return zap.New(core) }),
		fx.Populate(&set),
	)
	app.RequireStart() // an offline origin is not a start error
	defer app.RequireStop()

	if got := len(set.List()); got != 2 {
		t.Fatalf("List() has %d origins, want 2", got)
	}
	if set.List()[0].Name() != "local" || set.List()[1].Name() != "nas" {
		t.Fatal("List() is not in configuration order")
	}
	local, ok := set.Get("local")
	if !ok || !local.Online() || local.Root() != here {
		t.Fatalf("local origin: ok=%v online=%v root=%q", ok, ok && local.Online(), local.Root())
	}
	nas, _ := set.Get("nas")
	if nas.Online() {
		t.Fatal("missing origin is online")
	}
	if _, ok := set.Get("other"); ok {
		t.Fatal("Get found an unconfigured origin")
	}
	warns := logs.FilterMessageSnippet("origin offline").All()
	if len(warns) != 1 || warns[0].Level != zapcore.WarnLevel ||
		warns[0].ContextMap()["origin"] != "nas" || warns[0].ContextMap()["path"] != gone {
		t.Fatalf("offline warnings = %v, want one naming nas and %s", warns, gone)
	}
	if logs.FilterLoggerName("origins").Len() == 0 {
		t.Fatal("module logger is not named origins")
	}

	// The origin comes back: a check (as before a rescan) sees it.
	if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	} else if !nas.Check(context.Background()) || !nas.Online() {
		t.Fatal("origin still offline after its root came back")
	}
}

func TestModuleRejectsBadConfig(t *testing.T) {
	app := fx.New(
		origins.Module,
		fx.Supply(origins.Config{Origins: []origins.OriginConfig{{Name: "Bad Name", Path: "/x"}}}),
		fx.Provide(zap.NewNop),
		fx.Invoke(func(origins.Set) {}),
		fx.NopLogger,
	)
	if err := app.Err(); err == nil {
		t.Fatal("bad config accepted")
	}
}

// wrapped is what a test or a later feature puts in front of the set.
type wrapped struct{ origins.Set }

func TestModuleSetCanBeDecorated(t *testing.T) {
	var set origins.Set
	fxtest.New(t,
		origins.Module,
		fx.Supply(origins.Config{Origins: []origins.OriginConfig{{Name: "a", Path: t.TempDir()}}}),
		fx.Provide(zap.NewNop),
		fx.Decorate(func(s origins.Set) origins.Set { return wrapped{s} }),
		fx.Populate(&set),
	).RequireStart().RequireStop()
	if _, ok := set.(wrapped); !ok {
		t.Fatalf("got %T, want the decorated set", set)
	}
}

func TestModuleProvidesTheWatcher(t *testing.T) {
	root := t.TempDir()
	var w *origins.Watcher
	app := fxtest.New(t,
		origins.Module,
		fx.Supply(origins.Config{Origins: []origins.OriginConfig{{Name: "m", Path: root, Watch: true}}}),
		fx.Provide(func() *zap.Logger { return zaptest.NewLogger(t) }),
		fx.Populate(&w),
	)
	app.RequireStart()
	// The watches go in in the background; a file in a new directory is
	// reported as the directory (or the file, once the root is watched).
	deadline := time.After(5 * time.Second)
	for i := 0; ; i++ {
		if err := os.WriteFile(filepath.Join(root, fmt.Sprintf("%d.mp3", i)), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-w.Changes():
			if c.Origin != "m" || len(c.Paths) == 0 {
				t.Fatalf("change %+v, want paths of m", c)
			}
		case <-time.After(300 * time.Millisecond):
			continue
		case <-deadline:
			t.Fatal("no change reported")
		}
		break
	}
	app.RequireStop()
	if _, open := <-w.Changes(); open {
		t.Fatal("Changes still open after Stop")
	}
}

// enospc is an inotify that has no watches left.
type enospc struct {
	events chan fsnotify.Event
	errs   chan error
}

func (enospc) Add(string) error                { return syscall.ENOSPC }
func (enospc) Remove(string) error             { return nil }
func (b enospc) Events() <-chan fsnotify.Event { return b.events }
func (b enospc) Errors() <-chan error          { return b.errs }
func (enospc) Close() error                    { return nil }

func TestModuleWatcherTakesABackendFromTheGraph(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	var w *origins.Watcher
	app := fxtest.New(t,
		origins.Module,
		fx.Supply(origins.Config{Origins: []origins.OriginConfig{{Name: "nas", Path: t.TempDir(), Watch: true}}}),
		fx.Provide(func() *zap.Logger { return zap.New(core) }),
		fx.Provide(func() origins.Backend { return enospc{make(chan fsnotify.Event), make(chan error)} }),
		fx.Populate(&w),
	)
	app.RequireStart()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if logs.FilterMessageSnippet("fs.inotify.max_user_watches").Len() > 0 {
			break
		}
	}
	app.RequireStop()
	warns := logs.FilterMessageSnippet("fs.inotify.max_user_watches").All()
	if len(warns) != 1 || warns[0].ContextMap()["origin"] != "nas" {
		t.Fatalf("warnings %v, want one naming nas and the sysctl", warns)
	}
}
