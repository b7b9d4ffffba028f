package e2e

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from what the mount shows")

// TestStandardLibrary mounts the generated library and checks the exact
// tree (every path, and which origin file each one serves) against the
// reviewed golden file, then every file's bytes against the origin.
func TestStandardLibrary(t *testing.T) {
	lib := audiogen.StandardLibrary()
	d := startDaemon(t, writeLib(t, lib))

	byHash := map[[32]byte]string{}
	for _, f := range lib {
		byHash[sha256.Sum256(f.Data)] = f.RelPath
	}
	var got strings.Builder
	for _, p := range walkFiles(t, d.Mountpoint, ".") {
		data := readFile(t, d.Path(p))
		rel, ok := byHash[sha256.Sum256(data)]
		if !ok {
			t.Errorf("%s: %d bytes that match no origin file", p, len(data))
			continue
		}
		if want := readFile(t, filepath.Join(d.Lib, rel)); !bytes.Equal(data, want) {
			t.Errorf("%s differs from origin %s", p, rel)
		}
		got.WriteString(p + "\t<- " + rel + "\n")
	}
	golden := filepath.Join("testdata", "standard_tree.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("tree differs from %s (run with -update and review the diff):\n%s", golden, got.String())
	}
}

func TestWritesGetEROFS(t *testing.T) {
	d := startDaemon(t, writeLib(t, audiogen.StandardLibrary()))
	file := d.Path("Artists/John Coltrane/Blue Train (1957)/01 Blue Train.flac")
	dir := filepath.Dir(file)
	for _, tc := range []struct {
		name string
		op   func() error
	}{
		{"create", func() error { return os.WriteFile(filepath.Join(dir, "new.flac"), []byte("x"), 0o644) }},
		{"open for write", func() error { f, err := os.OpenFile(file, os.O_WRONLY, 0); f.Close(); return err }},
		{"open rdwr", func() error { f, err := os.OpenFile(file, os.O_RDWR, 0); f.Close(); return err }},
		{"truncate", func() error { return os.Truncate(file, 0) }},
		{"unlink", func() error { return os.Remove(file) }},
		{"rename", func() error { return os.Rename(file, filepath.Join(dir, "moved.flac")) }},
		{"mkdir", func() error { return os.Mkdir(filepath.Join(dir, "sub"), 0o755) }},
		{"rmdir", func() error { return os.Remove(d.Path("Genres")) }},
		{"chmod", func() error { return os.Chmod(file, 0o777) }},
		{"chown", func() error { return os.Chown(file, 1, 1) }},
		{"utimes", func() error { return unix.UtimesNano(file, []unix.Timespec{{}, {}}) }},
		{"link", func() error { return os.Link(file, filepath.Join(dir, "hard")) }},
		{"symlink", func() error { return os.Symlink("x", filepath.Join(dir, "soft")) }},
	} {
		if err := tc.op(); !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s: %v, want EROFS", tc.name, err)
		}
	}
	if len(readFile(t, filepath.Join(d.Lib, "John Coltrane/Blue Train/01 Blue Train.flac"))) == 0 {
		t.Fatal("origin file damaged")
	}
}
