// Package apptest runs the whole daemon (app.Options) in the test process,
// mounted over a library, with its logs observable and any module open to
// fx.Decorate: for end-to-end tests and benchmarks that inject faults.
package apptest

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/tree"
)

// Daemon is the whole fx app, mounted over a library.
type Daemon struct {
	Mountpoint string
	Lib        string // the origin "lib"
	Config     *app.Config
	App        *fxtest.App
	Index      *index.Index
	Tree       *tree.Tree
	Registry   *prometheus.Registry
	Logs       *observer.ObservedLogs
}

// Configure changes the daemon's configuration before its modules see it.
func Configure(f func(c *app.Config)) fx.Option {
	return fx.Decorate(func(c *app.Config) *app.Config {
		c2 := *c
		f(&c2)
		return &c2
	})
}

// Start runs the daemon for the origin lib on a new mountpoint, with fresh
// state and cache directories, waits until the first scan is in the tree,
// and stops it at the end of the test.
func Start(tb testing.TB, lib string, extra ...fx.Option) *Daemon {
	tb.Helper()
	mounttest.RequireFUSE(tb)
	d := &Daemon{Mountpoint: filepath.Join(tb.TempDir(), "music"), Lib: lib}
	cfg, err := app.Load([]string{"--mountpoint", d.Mountpoint, "--origin", "lib=" + lib,
		"--state-dir", tb.TempDir(), "--cache-dir", tb.TempDir()}, nil)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		tb.Fatal(err)
	}
	d.Config = cfg
	d.Launch(tb, extra...)
	return d
}

// Launch runs the app over d.Config and waits for the first scan.
func (d *Daemon) Launch(tb testing.TB, extra ...fx.Option) {
	tb.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	d.Logs = logs
	mounttest.CleanupMount(tb, d.Mountpoint)
	d.App = fxtest.New(tb, app.Options(d.Config),
		fx.Decorate(func(l *zap.Logger) *zap.Logger {
			return zap.New(zapcore.NewTee(zaptest.NewLogger(tb, zaptest.Level(zap.InfoLevel)).Core(), core))
		}),
		fx.Supply(tree.Options{MinInterval: 10 * time.Millisecond}),
		fx.Options(extra...),
		fx.Populate(&d.Index, &d.Tree, &d.Registry),
	)
	d.App.RequireStart()
	app := d.App
	tb.Cleanup(func() {
		if mounttest.Mounted(d.Mountpoint) && d.App == app {
			app.RequireStop()
		}
	})
	select {
	case <-d.Index.Scanned():
	case <-time.After(60 * time.Second):
		tb.Fatal("first scan did not finish")
	}
	want := d.Index.Stats().Audio
	mounttest.Eventually(tb, 5*time.Second, "scan to reach the tree", func() bool {
		return d.Tree.Current().Tracks() == want
	})
}

// Restart stops the daemon and starts it again over the same configuration,
// cache and state: what a service restart does.
func (d *Daemon) Restart(tb testing.TB, extra ...fx.Option) {
	tb.Helper()
	d.App.RequireStop()
	d.Launch(tb, extra...)
}

// Path is the mount path of the slash-separated virtual path p.
func (d *Daemon) Path(p string) string { return filepath.Join(d.Mountpoint, filepath.FromSlash(p)) }
