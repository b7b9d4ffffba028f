package origins

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// skipTreeEnv passes the tree built by root to the copy of the test that
// runs as nobody.
const skipTreeEnv = "ORIGINS_TEST_SKIP_TREE"

// TestWalkNamesSkippedDirectories needs permissions to bite: as root it
// builds a tree with root-owned 0700 directories and walks it as nobody in a
// child process. Run as another user, it locks its own directories (mode 0).
func TestWalkNamesSkippedDirectories(t *testing.T) {
	files := map[string]int64{"top.mp3": 1, "ok/1.mp3": 2, "x/z/4.mp3": 3, "x/y/5.mp3": 4,
		"locked/2.mp3": 5, "x/y/locked2/3.mp3": 6}
	locked := []string{"locked", "x/y/locked2"}
	build := func(root string, mode os.FileMode) {
		for rel, size := range files {
			writeFile(t, root, rel, make([]byte, size))
		}
		for _, d := range locked {
			must(t, os.Chmod(filepath.Join(root, d), mode))
		}
	}
	root := os.Getenv(skipTreeEnv)
	switch {
	case os.Geteuid() == 0:
		dir, err := os.MkdirTemp("", "origins-skip-")
		must(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		must(t, os.Chmod(dir, 0o755))
		build(dir, 0o700) // owned by root: nobody cannot list them
		runAsNobody(t, "TestWalkNamesSkippedDirectories", skipTreeEnv+"="+dir)
		return
	case root == "":
		root = t.TempDir()
		build(root, 0)
		t.Cleanup(func() {
			for _, d := range locked {
				os.Chmod(filepath.Join(root, d), 0o755)
			}
		})
	}
	l := NewLocal(OriginConfig{Name: "t", Path: root}, time.Second, zaptest.NewLogger(t))

	for _, tc := range []struct {
		dir     string // "" for Walk
		skipped []string
		listed  []string
	}{
		{dir: "", skipped: []string{"locked", "x/y/locked2"}, listed: []string{"ok/1.mp3", "top.mp3", "x/y/5.mp3", "x/z/4.mp3"}},
		{dir: ".", skipped: []string{"locked", "x/y/locked2"}, listed: []string{"ok/1.mp3", "top.mp3", "x/y/5.mp3", "x/z/4.mp3"}},
		{dir: "x", skipped: []string{"x/y/locked2"}, listed: []string{"x/y/5.mp3", "x/z/4.mp3"}},
		{dir: "x/y/locked2", skipped: []string{"x/y/locked2"}},
		{dir: "locked", skipped: []string{"locked"}},
		{dir: "ok", listed: []string{"ok/1.mp3"}},
	} {
		t.Run("dir="+tc.dir, func(t *testing.T) {
			var listed []string
			fn := func(e Entry) error { listed = append(listed, e.RelPath); return nil }
			var err error
			if tc.dir == "" {
				err = l.Walk(context.Background(), fn)
			} else {
				err = l.WalkDir(context.Background(), tc.dir, fn)
			}
			slices.Sort(listed)
			if !slices.Equal(listed, tc.listed) {
				t.Errorf("listed %v, want %v", listed, tc.listed)
			}
			if tc.skipped == nil {
				if err != nil {
					t.Fatalf("walk = %v, want nil", err)
				}
				return
			}
			var ie *IncompleteError
			if !errors.As(err, &ie) || !errors.Is(err, ErrIncomplete) {
				t.Fatalf("walk = %v (%T), want an *IncompleteError wrapping ErrIncomplete", err, err)
			}
			if ie.Origin != "t" || !slices.Equal(ie.Skipped, tc.skipped) {
				t.Fatalf("IncompleteError{Origin: %q, Skipped: %q}, want t, %q", ie.Origin, ie.Skipped, tc.skipped)
			}
		})
	}
}

// A directory whose listing gets no answer within the read timeout (a hung
// NAS) is named like an unreadable one.
func TestWalkNamesTimedOutDirectories(t *testing.T) {
	root := t.TempDir()
	for _, rel := range []string{"fast/1.mp3", "slow/2.mp3", "slow/deeper/3.mp3"} {
		writeFile(t, root, rel, nil)
	}
	l := NewLocal(OriginConfig{Name: "t", Path: root}, 100*time.Millisecond, zaptest.NewLogger(t))
	release := make(chan struct{})
	done := make(chan struct{})
	err := l.walk(context.Background(), ".", nil, func(dir string) error {
		if dir == "slow" {
			defer close(done)
			<-release // stands for a listing blocked in the kernel
		}
		return nil
	})
	close(release)
	<-done
	var ie *IncompleteError
	if !errors.As(err, &ie) || !slices.Equal(ie.Skipped, []string{"slow"}) {
		t.Fatalf("walk = %v, want an IncompleteError naming slow", err)
	}
}

// The list of skipped directories is bounded; past the bound it is the root,
// which means anything may be missing. Directories under a listed one are
// not listed again.
func TestIncompleteErrorIsBounded(t *testing.T) {
	long := strings.Repeat("x", 300) // ENAMETOOLONG: fails without any I/O
	newWalker := func(t *testing.T) *walker {
		r, err := os.OpenRoot(t.TempDir())
		must(t, err)
		t.Cleanup(func() { r.Close() })
		return &walker{l: NewLocal(OriginConfig{Name: "t", Path: "/"}, time.Second, zap.NewNop()), root: r, ctx: context.Background()}
	}
	for _, tc := range []struct {
		name string
		skip []string
		want []string
	}{
		{name: "none"},
		{name: "sorted, descendants dropped", skip: []string{"b", "a-b", "a/b/c", "a", "a/b"}, want: []string{"a", "a-b", "b"}},
		{name: "the root", skip: []string{"x", "."}, want: []string{"."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWalker(t)
			for _, d := range tc.skip {
				w.skips.add(d)
			}
			err := w.skips.incomplete("t")
			if tc.want == nil {
				if err != nil {
					t.Fatalf("incomplete = %v, want nil", err)
				}
				return
			}
			if err == nil || !slices.Equal(err.Skipped, tc.want) {
				t.Fatalf("incomplete = %v, want Skipped %q", err, tc.want)
			}
		})
	}

	t.Run("bound", func(t *testing.T) {
		w := newWalker(t)
		want := map[string]bool{}
		for i := range maxSkippedListed {
			d := fmt.Sprintf("%s%04d", long, i)
			want[d] = true
			w.readDir(d)
		}
		err := w.skips.incomplete("t")
		if err == nil || len(err.Skipped) != maxSkippedListed || !slices.IsSorted(err.Skipped) {
			t.Fatalf("after %d skipped directories: %v, want all of them, sorted", maxSkippedListed, err)
		}
		if got := maps.Collect(func(yield func(string, bool) bool) {
			for _, d := range err.Skipped {
				yield(d, true)
			}
		}); !maps.Equal(got, want) {
			t.Fatal("skipped list differs from the skipped directories")
		}
		w.readDir(long + "more")
		if err := w.skips.incomplete("t"); err == nil || !slices.Equal(err.Skipped, []string{"."}) {
			t.Fatalf("after %d skipped directories: %v, want Skipped [.]", maxSkippedListed+1, err)
		}
		if !strings.Contains(w.skips.incomplete("t").Error(), fmt.Sprint(maxSkippedListed+1)) {
			t.Fatalf("message %q does not say how many were skipped", w.skips.incomplete("t").Error())
		}
	})
}
