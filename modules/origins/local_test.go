package origins

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"
)

// writeFile creates dir/rel with data, making parent directories.
func writeFile(t *testing.T, dir, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// newTestLocal returns an origin over a fresh root inside a parent directory
// that also holds a file outside the root.
func newTestLocal(t *testing.T) (*Local, string) {
	t.Helper()
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	writeFile(t, parent, "outside.txt", []byte("secret"))
	writeFile(t, root, "a/b.txt", []byte("hello"))
	l := NewLocal(OriginConfig{Name: "test", Path: root}, time.Second, zaptest.NewLogger(t))
	if !l.Check(context.Background()) {
		t.Fatal("fresh origin is offline")
	}
	return l, root
}

func TestOpenAndStatRefuseEscapes(t *testing.T) {
	l, root := newTestLocal(t)
	symlink(t, "/etc", filepath.Join(root, "etc"))
	symlink(t, "/etc/passwd", filepath.Join(root, "passwd"))
	symlink(t, "../outside.txt", filepath.Join(root, "up"))
	symlink(t, filepath.Join(root, "a/b.txt"), filepath.Join(root, "absolute")) // os.Root refuses absolute links
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, rel := range []string{
		"../outside.txt", "a/../../outside.txt", "/etc/passwd", "etc/passwd",
		"passwd", "up", "absolute", "", ".", "./a/b.txt", "a//b.txt", "a/b.txt/",
		"missing",
	} {
		t.Run("open "+rel, func(t *testing.T) {
			f, err := l.Open(context.Background(), rel)
			if err == nil {
				f.Close()
				t.Fatalf("Open(%q) succeeded, want fs.ErrNotExist", rel)
			}
			if !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Open(%q) = %v, want fs.ErrNotExist", rel, err)
			}
		})
		t.Run("stat "+rel, func(t *testing.T) {
			if rel == "." || rel == "./a/b.txt" || rel == "a//b.txt" || rel == "a/b.txt/" || rel == "" {
				return // covered by Open; "." is the root itself
			}
			if _, err := l.Stat(context.Background(), rel); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("Stat(%q) = %v, want fs.ErrNotExist", rel, err)
			}
		})
	}

	// Not regular files: refused, and the FIFO open does not block.
	for _, rel := range []string{"a", "fifo"} {
		if f, err := l.Open(context.Background(), rel); !errors.Is(err, fs.ErrNotExist) {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open(%q) = %v, want fs.ErrNotExist", rel, err)
		}
	}
}

func TestOpenFollowsInsideSymlinks(t *testing.T) {
	l, root := newTestLocal(t)
	symlink(t, "a/b.txt", filepath.Join(root, "link.txt"))
	symlink(t, "a", filepath.Join(root, "dirlink"))
	for _, rel := range []string{"a/b.txt", "link.txt", "dirlink/b.txt"} {
		f, err := l.Open(context.Background(), rel)
		if err != nil {
			t.Fatalf("Open(%q): %v", rel, err)
		}
		buf := make([]byte, 5)
		if n, err := f.ReadAt(context.Background(), buf, 0); n != 5 || err != nil || string(buf) != "hello" {
			t.Errorf("ReadAt(%q) = %d, %v, %q", rel, n, err, buf)
		}
		f.Close()
		fi, err := l.Stat(context.Background(), rel)
		if err != nil || fi.Size() != 5 || !fi.Mode().IsRegular() {
			t.Errorf("Stat(%q) = %v, %v", rel, fi, err)
		}
	}
}

func TestReadAtConcurrent(t *testing.T) {
	l, root := newTestLocal(t)
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	writeFile(t, root, "big.bin", data)
	f, err := l.Open(context.Background(), "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			buf := make([]byte, 4096+g)
			for off := int64(g * 100); off < int64(len(data)); off += 50_000 {
				n, err := f.ReadAt(context.Background(), buf, off)
				want := data[off:min(off+int64(len(buf)), int64(len(data)))]
				if n != len(want) || !bytes.Equal(buf[:n], want) || (err != nil && n == len(buf)) {
					t.Errorf("ReadAt(%d) = %d, %v", off, n, err)
					return
				}
			}
		})
	}
	wg.Wait()

	// Reading at the end reports EOF like os.File does.
	buf := make([]byte, 10)
	if n, err := f.ReadAt(context.Background(), buf, int64(len(data))-4); n != 4 || err == nil {
		t.Fatalf("ReadAt past the end = %d, %v; want 4, io.EOF", n, err)
	}
}

func TestCheckTracksHealthAndLogsChangesOnce(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	root := filepath.Join(t.TempDir(), "music")
	l := NewLocal(OriginConfig{Name: "nas", Path: root}, time.Second, zap.New(core))
	ctx := context.Background()

	if l.Online() {
		t.Fatal("Online before any check")
	}
	for range 2 {
		if l.Check(ctx) {
			t.Fatal("missing root is online")
		}
	}
	if n := logs.FilterMessageSnippet("origin offline").Len(); n != 1 {
		t.Fatalf("%d offline warnings, want 1", n)
	}
	e := logs.FilterMessageSnippet("origin offline").All()[0]
	if e.Level != zapcore.WarnLevel || e.ContextMap()["origin"] != "nas" || e.ContextMap()["path"] != root {
		t.Fatalf("offline log = %v %v, want a warning naming origin and path", e.Level, e.ContextMap())
	}
	err := l.Walk(ctx, func(Entry) error { return nil })
	if !errors.Is(err, ErrOffline) {
		t.Fatalf("Walk on a missing root = %v, want ErrOffline", err)
	}
	if _, err := l.Open(context.Background(), "x"); !errors.Is(err, ErrOffline) || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open on a missing root = %v, want ErrOffline and not ErrNotExist", err)
	}

	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	if !l.Check(ctx) || !l.Online() {
		t.Fatal("existing root is offline")
	}
	if n := logs.FilterMessage("origin back online").Len(); n != 1 {
		t.Fatalf("%d back-online logs, want 1", n)
	}

	// A root that is a file is not readable as a directory.
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(root, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if l.Check(ctx) {
		t.Fatal("a file as root is online")
	}
}

func TestCheckCancelledKeepsState(t *testing.T) {
	l, _ := newTestLocal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if !l.Check(ctx) || !l.Online() {
		t.Fatal("a cancelled check marked an online origin offline")
	}
}

// An open file reports its current size and mtime, so the cache can tell
// that the file changed under a fetch even when its size did not.
func TestOpenFileStat(t *testing.T) {
	l, root := newTestLocal(t)
	f, err := l.Open(context.Background(), "a/b.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	later := time.Now().Add(time.Hour).Truncate(time.Second)
	if err := os.Chtimes(filepath.Join(root, "a/b.txt"), later, later); err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat(context.Background())
	if err != nil || fi.Size() != 5 || !fi.ModTime().Equal(later) {
		t.Fatalf("Stat() = %v, %v; want 5 bytes modified %v", fi, err, later)
	}
}
