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

	"github.com/musicfs/musicfs/internal/testing/apptest"
	"github.com/musicfs/musicfs/internal/testing/audiogen"
)

// daemon is the whole app, in process.
type daemon = apptest.Daemon

// writeLib writes files into a new temp library directory.
func writeLib(t *testing.T, files []audiogen.LibFile) string {
	t.Helper()
	dir := t.TempDir()
	if err := audiogen.WriteLibrary(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	startDaemon = apptest.Start
	configure   = apptest.Configure
)

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
