package origins_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
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
	if c, ok := nas.(origins.Checker); !ok {
		t.Fatal("origin does not implement Checker")
	} else if err := os.Mkdir(gone, 0o755); err != nil {
		t.Fatal(err)
	} else if !c.Check(context.Background()) || !nas.Online() {
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
