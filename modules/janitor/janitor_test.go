package janitor_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/modules/janitor"
)

type logs struct{ *observer.ObservedLogs }

// warnings renders each warning with its fields, for substring checks.
func (l logs) warnings() []string {
	var out []string
	for _, e := range l.FilterLevelExact(zapcore.WarnLevel).All() {
		s := e.Message
		for k, v := range e.ContextMap() {
			s += " " + k + "=" + strings.TrimSpace(strings.ReplaceAll(toString(v), "\n", " "))
		}
		out = append(out, s)
	}
	return out
}

func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return ""
}

func newJanitor(t *testing.T, cfg janitor.Config) (*janitor.Janitor, logs) {
	t.Helper()
	core, obs := observer.New(zapcore.DebugLevel)
	j, err := janitor.New(janitor.Params{Config: cfg, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	return j, logs{obs}
}

// prepare runs Prepare with a deadline so that a hang fails the test.
func prepare(t *testing.T, j *janitor.Janitor) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- j.Prepare(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Prepare hung")
		return nil
	}
}

func TestLiveMountIsRefused(t *testing.T) {
	mp := t.TempDir()
	leaveNoMount(t, mp)
	mountInProcess(t, mp, &testRoot{})

	j, _ := newJanitor(t, janitor.Config{Mountpoint: mp})
	err := prepare(t, j)
	if !errors.Is(err, janitor.ErrMounted) {
		t.Fatalf("Prepare = %v, want ErrMounted", err)
	}
	for _, want := range []string{mp, "fuse.janitortest", "stop the other instance first"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(mp, "hello.txt")); err != nil {
		t.Fatalf("the live mount was disturbed: %v", err)
	}
}

func TestLiveMountBehindSymlinkIsRefused(t *testing.T) {
	dir := t.TempDir()
	mp := filepath.Join(dir, "real")
	if err := os.Mkdir(mp, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	leaveNoMount(t, mp)
	mountInProcess(t, mp, &testRoot{})

	j, _ := newJanitor(t, janitor.Config{Mountpoint: link})
	if err := prepare(t, j); !errors.Is(err, janitor.ErrMounted) || !strings.Contains(err.Error(), mp) {
		t.Fatalf("Prepare through a symlink = %v, want ErrMounted naming %s", err, mp)
	}
}

func TestDeadMountIsRemoved(t *testing.T) {
	for _, stacked := range []int{1, 2} {
		t.Run(strings.Repeat("dead", stacked), func(t *testing.T) {
			mp := t.TempDir()
			leaveNoMount(t, mp)
			deadMount(t, mp, stacked)

			j, logs := newJanitor(t, janitor.Config{Mountpoint: mp})
			if err := prepare(t, j); err != nil {
				t.Fatalf("Prepare = %v, want the dead mount removed", err)
			}
			if mounted(t, mp) {
				t.Fatal("dead mount still in mountinfo")
			}
			w := logs.warnings()
			if len(w) != stacked || !hasWarning(w, "removed stale mount") ||
				!hasWarning(w, "mountpoint="+mp) || !hasWarning(w, "transport endpoint is not connected") {
				t.Fatalf("warnings = %q, want %d naming the mountpoint and ENOTCONN", w, stacked)
			}
		})
	}
}

func TestHungMountIsRemoved(t *testing.T) {
	mp := t.TempDir()
	leaveNoMount(t, mp)
	root := &testRoot{}
	srv := mountInProcess(t, mp, root)
	release := make(chan struct{})
	root.block.Store(&release)
	// Runs before the unmount cleanup: the blocked stat must get its answer
	// for the detached mount to go away and the server to exit.
	t.Cleanup(func() {
		root.block.Store(nil)
		close(release)
		exited := make(chan struct{})
		go func() { srv.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			t.Error("FUSE server did not exit after its mount was detached")
		}
	})

	j, logs := newJanitor(t, janitor.Config{Mountpoint: mp, StatTimeout: 300 * time.Millisecond})
	start := time.Now()
	if err := prepare(t, j); err != nil {
		t.Fatalf("Prepare = %v, want the hung mount removed", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 2*time.Second {
		t.Errorf("Prepare took %v, want about the 300ms stat timeout", d)
	}
	if mounted(t, mp) {
		t.Fatal("hung mount still in mountinfo")
	}
	if w := logs.warnings(); len(w) != 1 || !hasWarning(w, "removed stale mount") || !hasWarning(w, "did not answer within 300ms") {
		t.Fatalf("warnings = %q", w)
	}
}

func TestOtherFilesystemMayBeMountedOver(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount tmpfs")
	}
	mp := t.TempDir()
	leaveNoMount(t, mp)
	if err := unix.Mount("tmpfs", mp, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(mp, 0) })

	j, logs := newJanitor(t, janitor.Config{Mountpoint: mp})
	if err := prepare(t, j); err != nil {
		t.Fatalf("Prepare on an empty tmpfs = %v", err)
	}
	if !mounted(t, mp) {
		t.Fatal("the tmpfs was unmounted")
	}
	if w := logs.warnings(); len(w) != 0 {
		t.Fatalf("warnings = %q", w)
	}
}

func TestMountpointChecks(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string) string // returns the mountpoint
		wantErr string                                // empty: success
	}{
		{"empty dir", func(t *testing.T, dir string) string { return dir }, ""},
		{"missing is created", func(t *testing.T, dir string) string { return filepath.Join(dir, "music") }, ""},
		{"relative path", func(t *testing.T, dir string) string {
			t.Chdir(dir)
			return "music"
		}, ""},
		{"symlink to empty dir", func(t *testing.T, dir string) string {
			must(t, os.Mkdir(filepath.Join(dir, "real"), 0o755))
			must(t, os.Symlink(filepath.Join(dir, "real"), filepath.Join(dir, "link")))
			return filepath.Join(dir, "link")
		}, ""},
		{"missing parent", func(t *testing.T, dir string) string {
			return filepath.Join(dir, "no", "music")
		}, "parent directory DIR/no does not exist"},
		{"non-empty dir", func(t *testing.T, dir string) string {
			must(t, os.WriteFile(filepath.Join(dir, "keep.mp3"), nil, 0o644))
			return dir
		}, "mountpoint DIR is not empty"},
		{"file", func(t *testing.T, dir string) string {
			f := filepath.Join(dir, "music")
			must(t, os.WriteFile(f, nil, 0o644))
			return f
		}, "mountpoint DIR/music is not a directory"},
		{"dangling symlink", func(t *testing.T, dir string) string {
			must(t, os.Symlink(filepath.Join(dir, "gone", "x"), filepath.Join(dir, "link")))
			return filepath.Join(dir, "link")
		}, "parent directory DIR/gone does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, err := filepath.EvalSymlinks(t.TempDir())
			must(t, err)
			mp := tt.setup(t, dir)
			j, _ := newJanitor(t, janitor.Config{Mountpoint: mp})
			err = prepare(t, j)
			if tt.wantErr != "" {
				want := strings.ReplaceAll(tt.wantErr, "DIR", dir)
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Fatalf("Prepare = %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Prepare = %v", err)
			}
			if fi, err := os.Stat(mp); err != nil || !fi.IsDir() {
				t.Fatalf("mountpoint after Prepare: %v, %v", fi, err)
			}
		})
	}
}

func TestCreatedMode(t *testing.T) {
	mp := filepath.Join(t.TempDir(), "music")
	j, logs := newJanitor(t, janitor.Config{Mountpoint: mp})
	must(t, prepare(t, j))
	fi, err := os.Stat(mp)
	must(t, err)
	if got := fi.Mode().Perm(); got != 0o755&^umask() {
		t.Fatalf("created with mode %o", got)
	}
	if logs.FilterMessage("created mountpoint").Len() != 1 {
		t.Fatal("creation not logged")
	}
}

func TestModule(t *testing.T) {
	t.Run("prepares at start", func(t *testing.T) {
		mp := filepath.Join(t.TempDir(), "music")
		app := fxtest.New(t, janitor.Module,
			fx.Supply(janitor.Config{Mountpoint: mp}),
			fx.Provide(func() *zap.Logger { return zap.NewNop() }))
		if _, err := os.Stat(mp); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("mountpoint touched before start: %v", err)
		}
		app.RequireStart().RequireStop()
		if _, err := os.Stat(mp); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("live mount fails start", func(t *testing.T) {
		mp := t.TempDir()
		leaveNoMount(t, mp)
		mountInProcess(t, mp, &testRoot{})
		app := fx.New(janitor.Module, fx.NopLogger,
			fx.Supply(janitor.Config{Mountpoint: mp}),
			fx.Provide(func() *zap.Logger { return zap.NewNop() }))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := app.Start(ctx); !errors.Is(err, janitor.ErrMounted) {
			t.Fatalf("Start = %v, want ErrMounted", err)
		}
	})
	t.Run("config validated", func(t *testing.T) {
		for _, cfg := range []janitor.Config{{}, {Mountpoint: "/x", StatTimeout: -1}} {
			if _, err := janitor.New(janitor.Params{Config: cfg, Logger: zap.NewNop()}); err == nil {
				t.Errorf("New(%+v) accepted", cfg)
			}
		}
		if err := fx.ValidateApp(janitor.Module, fx.Supply(janitor.DefaultConfig()), fx.Provide(zap.NewNop)); err != nil {
			t.Fatal(err)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func umask() os.FileMode {
	m := unix.Umask(0)
	unix.Umask(m)
	return os.FileMode(m)
}
