package e2e

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/modules/config"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/tree"
)

// daemon is the whole fx app, mounted over a generated library.
type daemon struct {
	mp, lib string
	app     *fxtest.App
	index   *index.Index
	tree    *tree.Tree
	reg     *prometheus.Registry
	logs    *observer.ObservedLogs
}

// writeLib writes files into a new temp library directory.
func writeLib(t *testing.T, files []audiogen.LibFile) string {
	t.Helper()
	dir := t.TempDir()
	if err := audiogen.WriteLibrary(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startDaemon runs app.Options for lib, waits until the first scan is in the
// tree, and stops it at the end of the test.
func startDaemon(t *testing.T, lib string, extra ...fx.Option) *daemon {
	t.Helper()
	mounttest.RequireFUSE(t)
	d := &daemon{mp: filepath.Join(t.TempDir(), "music"), lib: lib}
	cfg, err := config.Load([]string{"--mountpoint", d.mp, "--origin", "lib=" + lib,
		"--state-dir", t.TempDir(), "--cache-dir", t.TempDir()}, nil)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	d.logs = logs
	mounttest.CleanupMount(t, d.mp)
	d.app = fxtest.New(t, app.Options(cfg),
		fx.Decorate(func(l *zap.Logger) *zap.Logger {
			return zap.New(zapcore.NewTee(zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel)).Core(), core))
		}),
		fx.Supply(tree.Options{MinInterval: 10 * time.Millisecond}),
		fx.Options(extra...),
		fx.Populate(&d.index, &d.tree, &d.reg),
	)
	d.app.RequireStart()
	t.Cleanup(func() {
		if mounttest.Mounted(d.mp) {
			d.app.RequireStop()
		}
	})
	select {
	case <-d.index.Scanned():
	case <-time.After(20 * time.Second):
		t.Fatal("first scan did not finish")
	}
	want := d.index.Stats().Audio
	mounttest.Eventually(t, 5*time.Second, "scan to reach the tree", func() bool {
		return d.tree.Current().Tracks() == want
	})
	return d
}

func (d *daemon) path(p string) string { return filepath.Join(d.mp, filepath.FromSlash(p)) }

// walkFiles lists the regular files under root/sub, slash-separated and
// relative to root, sorted.
func walkFiles(t *testing.T, root, sub string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(root, sub), func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// withDeadline runs f and fails the test if it does not return in time:
// readers of the mount must never block.
func withDeadline(t *testing.T, timeout time.Duration, what string, f func(ctx context.Context)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); f(ctx) }()
	select {
	case <-done:
	case <-time.After(timeout + 2*time.Second):
		t.Fatalf("%s blocked past its deadline", what)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lines(s []string) string { return strings.Join(s, "\n") }
