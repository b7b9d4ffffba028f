package cas_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
)

const crashEnv = "CAS_CRASH_HELPER_DIR"

// crashTracks are what the crash helper fetches: one small track that
// becomes a blob, then two large ones fetched concurrently and slowly.
var crashTracks = []struct {
	rel  string
	seed uint64
	size int
}{
	{"small", 90, 5 * bs},
	{"big1", 91, 400 * bs},
	{"big2", 92, 400*bs + 17},
}

// crashHelper runs in a child process: it fetches crashTracks into the
// store in $CAS_CRASH_HELPER_DIR and reports progress on stdout until the
// parent kills it with SIGKILL.
func crashHelper() {
	cfg := cas.Config{Dir: os.Getenv(crashEnv), BlockSize: bs, ReadTimeout: 5 * time.Second}
	s, err := cas.New(cas.Params{Config: cfg, Logger: zap.NewNop()})
	if err == nil {
		err = s.Start(context.Background())
	}
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for i, tr := range crashTracks {
		data := content(tr.seed, tr.size)
		o := newOrigin(data)
		o.delay = 200 * time.Microsecond
		k := keyOf("nas", tr.rel, data)
		if i == 0 {
			if err := s.Fetch(context.Background(), k, o.open, 0, k.Size); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			continue
		}
		go s.Fetch(context.Background(), k, o.open, 0, k.Size)
	}
	for {
		var present int64
		for _, tr := range crashTracks[1:] {
			data := content(tr.seed, tr.size)
			p, _ := s.Cached(keyOf("nas", tr.rel, data))
			present += p
		}
		fmt.Println("present", present)
		time.Sleep(5 * time.Millisecond)
	}
}

func TestKill9DuringFetchLeavesARepairableStore(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := filepath.Join(t.TempDir(), "cache")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "error") {
			t.Fatal(line)
		}
		var present int64
		fmt.Sscanf(line, "present %d", &present)
		if present >= 100*bs { // well into both large fetches
			break
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = cmd.Wait()

	s, reg := startStore(t, cas.Config{Dir: dir, BlockSize: bs, ReadTimeout: 5 * time.Second})
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Fatalf("temp leftovers after restart: %v", ents)
	}
	var kept int64
	for _, tr := range crashTracks {
		data := content(tr.seed, tr.size)
		k := keyOf("nas", tr.rel, data)
		p, _ := s.Cached(k)
		kept += p
		mustReadAll(t, open(t, s, k, newOrigin(data)), data)
	}
	if kept == 0 {
		t.Fatal("nothing survived the crash; the test did not exercise recovery")
	}
	// Every file on disk is named by a manifest.
	var files int
	filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return nil
	})
	fills, _ := os.ReadDir(filepath.Join(dir, "fill"))
	if n := len(s.Entries()); files+len(fills) != n {
		t.Fatalf("%d blobs and %d fill files on disk, %d entries", files, len(fills), n)
	}
	t.Logf("%d bytes of the interrupted fetches survived; integrity failures %v", kept,
		promtest.Value(t, reg, "musicfs_cache_integrity_failures_total"))
}
