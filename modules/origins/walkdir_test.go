package origins

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

func TestWalkDir(t *testing.T) {
	l, root := newTestLocal(t) // has a/b.txt (5 bytes) and ../outside.txt
	writeFile(t, root, "x/y/z/deep.mp3", []byte("333"))
	writeFile(t, root, "x/y/other.txt", []byte("4444"))
	writeFile(t, root, "x/top.mp3", []byte("1"))
	if err := os.MkdirAll(filepath.Join(root, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, "x", filepath.Join(root, "xlink"))
	symlink(t, "..", filepath.Join(root, "up"))

	all := map[string]int64{"a/b.txt": 5, "x/y/z/deep.mp3": 3, "x/y/other.txt": 4, "x/top.mp3": 1}
	for _, tc := range []struct {
		dir     string
		want    map[string]int64
		wantErr error
	}{
		{dir: ".", want: all},
		{dir: "x", want: map[string]int64{"x/y/z/deep.mp3": 3, "x/y/other.txt": 4, "x/top.mp3": 1}},
		{dir: "x/y", want: map[string]int64{"x/y/z/deep.mp3": 3, "x/y/other.txt": 4}},
		{dir: "x/y/z", want: map[string]int64{"x/y/z/deep.mp3": 3}},
		{dir: "empty", want: map[string]int64{}},
		{dir: "missing", wantErr: fs.ErrNotExist},
		{dir: "x/missing/deeper", wantErr: fs.ErrNotExist},
		{dir: "x/top.mp3", wantErr: fs.ErrNotExist},    // a file
		{dir: "x/top.mp3/in", wantErr: fs.ErrNotExist}, // ENOTDIR
		{dir: "xlink", wantErr: fs.ErrNotExist},        // Walk never descends symlinks
		{dir: "xlink/y", wantErr: fs.ErrNotExist},
		{dir: "up", wantErr: fs.ErrNotExist},
		{dir: "..", wantErr: fs.ErrNotExist},
		{dir: "../root", wantErr: fs.ErrNotExist},
		{dir: "/etc", wantErr: fs.ErrNotExist},
		{dir: "", wantErr: fs.ErrNotExist},
		{dir: "x/", wantErr: fs.ErrNotExist},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			got := map[string]int64{}
			err := l.WalkDir(context.Background(), tc.dir, func(e Entry) error {
				got[e.RelPath] = e.Size
				return nil
			})
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("WalkDir(%q) = %v, want %v", tc.dir, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("WalkDir(%q) listed %v, want %v", tc.dir, got, tc.want)
			}
		})
	}
}

func TestWalkDirOfflineRoot(t *testing.T) {
	gone := filepath.Join(t.TempDir(), "gone")
	l := NewLocal(OriginConfig{Name: "t", Path: gone}, time.Second, zaptest.NewLogger(t))
	err := l.WalkDir(context.Background(), "a", func(Entry) error { return nil })
	if !errors.Is(err, ErrOffline) || errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WalkDir on a missing root = %v, want ErrOffline (and not ErrNotExist, which means deleted)", err)
	}
}

// The watcher's directories-only walk calls visit before listing each
// directory and stops at visit's first error.
func TestWalkVisitsDirectoriesOnly(t *testing.T) {
	l, root := newTestLocal(t)
	for _, rel := range []string{"x/y/1.mp3", "x/z/2.mp3", "w/3.mp3"} {
		writeFile(t, root, rel, nil)
	}
	var visited []string
	var mu = make(chan struct{}, 1)
	err := l.walk(context.Background(), "x", nil, func(dir string) error {
		mu <- struct{}{}
		visited = append(visited, dir)
		<-mu
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := sortedCopy(visited); !equalStrings(got, []string{"x", "x/y", "x/z"}) {
		t.Fatalf("visited %v, want x, x/y, x/z", got)
	}

	stop := errors.New("no space")
	err = l.walk(context.Background(), ".", nil, func(string) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("walk with failing visit = %v, want its error", err)
	}
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	slices.Sort(c)
	return c
}

func equalStrings(a, b []string) bool { return slices.Equal(a, b) }
