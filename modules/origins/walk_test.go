package origins

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

// collect walks l and returns relpath → size.
func collect(t *testing.T, l *Local) (map[string]int64, error) {
	t.Helper()
	got := map[string]int64{}
	err := l.Walk(context.Background(), func(e Entry) error {
		if _, dup := got[e.RelPath]; dup {
			t.Errorf("%s listed twice", e.RelPath)
		}
		if e.ModTime.IsZero() {
			t.Errorf("%s has no mtime", e.RelPath)
		}
		got[e.RelPath] = e.Size
		return nil
	})
	return got, err
}

func TestWalkListsRegularFilesAndSafeSymlinks(t *testing.T) {
	l, root := newTestLocal(t) // has a/b.txt (5 bytes) and ../outside.txt
	writeFile(t, root, "top.flac", []byte("1"))
	writeFile(t, root, ".hidden.mp3", []byte("22"))
	writeFile(t, root, "x/y/z/deep.mp3", []byte("333"))
	writeFile(t, root, "x/y/other.txt", []byte("4444"))
	if err := os.MkdirAll(filepath.Join(root, "empty/dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, "../a/b.txt", filepath.Join(root, "x/inside.txt"))           // listed, target's size
	symlink(t, "..", filepath.Join(root, "x/loop"))                         // directory link: skipped, no loop
	symlink(t, ".", filepath.Join(root, "self"))                            // same
	symlink(t, "/etc", filepath.Join(root, "etc"))                          // outside: skipped
	symlink(t, "/etc/passwd", filepath.Join(root, "passwd"))                // outside: skipped
	symlink(t, "../outside.txt", filepath.Join(root, "up.txt"))             // outside: skipped
	symlink(t, "dangling", filepath.Join(root, "broken"))                   // skipped
	symlink(t, "ping", filepath.Join(root, "pong"))                         // link loop: skipped
	symlink(t, "pong", filepath.Join(root, "ping"))                         //
	symlink(t, filepath.Join(root, "top.flac"), filepath.Join(root, "abs")) // absolute: refused by os.Root
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}

	want := map[string]int64{
		"a/b.txt":        5,
		"top.flac":       1,
		".hidden.mp3":    2,
		"x/y/z/deep.mp3": 3,
		"x/y/other.txt":  4,
		"x/inside.txt":   5,
	}
	for i := range 3 { // the same set every time
		got, err := collect(t, l)
		if err != nil {
			t.Fatalf("walk %d: %v", i, err)
		}
		if !maps.Equal(got, want) {
			t.Fatalf("walk %d listed %v, want %v", i, got, want)
		}
	}
}

func TestWalkManyDirectories(t *testing.T) {
	l, root := newTestLocal(t)
	want := map[string]int64{"a/b.txt": 5}
	for i := range 60 {
		for j := range 4 {
			rel := fmt.Sprintf("artist%02d/album%d/%02d.mp3", i, j%2, j)
			writeFile(t, root, rel, []byte(rel))
			want[rel] = int64(len(rel))
		}
	}
	got, err := collect(t, l)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("listed %d files, want %d", len(got), len(want))
	}
}

func TestWalkStopsOnCallbackErrorAndCancel(t *testing.T) {
	l, root := newTestLocal(t)
	for i := range 200 {
		writeFile(t, root, fmt.Sprintf("d%03d/f.mp3", i), nil)
	}
	stop := errors.New("stop")
	n := 0
	err := l.Walk(context.Background(), func(Entry) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Fatalf("Walk = %v after %d calls, want the callback's error after 3", err, n)
	}

	ctx, cancel := context.WithCancel(context.Background())
	n = 0
	err = l.Walk(ctx, func(Entry) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Walk after cancel = %v, want context.Canceled", err)
	}
}

// TestReadDirClassifiesErrors covers the walker's handling of a failing
// directory without needing an unreadable one: a vanished directory is not
// an error, anything else is skipped, counted and warned about once.
func TestReadDirClassifiesErrors(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	root := t.TempDir()
	writeFile(t, root, "file", nil)
	l := NewLocal(OriginConfig{Name: "t", Path: root}, time.Second, zap.New(core))
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w := &walker{l: l, root: r, ctx: context.Background()}

	w.readDir("gone") // vanished
	w.readDir("file") // replaced by a file: vanished as a directory
	if w.skips.count() != 0 {
		t.Fatalf("vanished directories counted as skipped")
	}
	long := strings.Repeat("x", 300) // ENAMETOOLONG: an error that is not "vanished"
	w.readDir(long)
	w.readDir(long)
	if w.skips.count() != 2 {
		t.Fatalf("skipped = %d, want 2", w.skips.count())
	}
	if n := logs.FilterMessage("unreadable directory skipped").Len(); n != 1 {
		t.Fatalf("%d warnings for one unreadable directory read twice, want 1", n)
	}
}

// TestWalkSkipsUnreadableDirectory needs permissions to bite: as root it
// re-runs itself as nobody in a child process.
func TestWalkSkipsUnreadableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		runAsNobody(t, "TestWalkSkipsUnreadableDirectory")
		return
	}
	core, logs := observer.New(zapcore.WarnLevel)
	root := t.TempDir()
	writeFile(t, root, "ok/1.mp3", []byte("1"))
	writeFile(t, root, "locked/2.mp3", []byte("2"))
	writeFile(t, root, "top.mp3", []byte("3"))
	if err := os.Chmod(filepath.Join(root, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(root, "locked"), 0o755) })
	l := NewLocal(OriginConfig{Name: "t", Path: root}, time.Second, zap.New(core).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, zaptest.NewLogger(t).Core())
	})))

	for range 2 {
		got, err := collect(t, l)
		if !errors.Is(err, ErrIncomplete) {
			t.Fatalf("Walk = %v, want ErrIncomplete", err)
		}
		if want := map[string]int64{"ok/1.mp3": 1, "top.mp3": 1}; !maps.Equal(got, want) {
			t.Fatalf("listed %v, want %v", got, want)
		}
	}
	warns := logs.FilterMessage("unreadable directory skipped").All()
	if len(warns) != 1 || warns[0].ContextMap()["dir"] != "locked" {
		t.Fatalf("warnings = %v, want one naming locked", warns)
	}
}

// runAsNobody runs test in a copy of this test binary as uid/gid 65534,
// with env added to the environment.
func runAsNobody(t *testing.T, test string, env ...string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "origins-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "origins.test")
	if err := os.WriteFile(bin, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "TMPDIR=/tmp", "HOME=/tmp"), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	t.Logf("as nobody:\n%s", out)
	if err != nil {
		t.Fatalf("as nobody: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: "+test) {
		t.Fatal("the test did not run as nobody")
	}
}

// The walk's parallel workers and the caller's callback run concurrently;
// -race checks the hand-off.
func TestWalkConcurrentWalks(t *testing.T) {
	l, root := newTestLocal(t)
	for i := range 50 {
		writeFile(t, root, fmt.Sprintf("d%d/e/f.mp3", i), nil)
	}
	var wg sync.WaitGroup
	results := make([][]string, 4)
	for i := range results {
		wg.Go(func() {
			var got []string
			if err := l.Walk(context.Background(), func(e Entry) error { got = append(got, e.RelPath); return nil }); err != nil {
				t.Error(err)
			}
			slices.Sort(got)
			results[i] = got
		})
	}
	wg.Wait()
	for i := range results {
		if !slices.Equal(results[i], results[0]) || len(results[0]) != 51 {
			t.Fatalf("walk %d listed %d files, walk 0 %d, want 51 each", i, len(results[i]), len(results[0]))
		}
	}
}
