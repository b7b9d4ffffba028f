package cas_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// unaccountedFills returns the fill files on disk that no entry accounts for.
func unaccountedFills(t *testing.T, dir string, entries map[string]bool) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if !entries["fill/"+e.Name()] {
			out = append(out, e.Name())
		}
	}
	return out
}

// When one read finds the origin changed while another creates the fill
// file for its block, the fill is dropped; the file must not be left on
// disk unaccounted.
func TestOriginChangeDuringFirstWriteLeavesNoFile(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	for i := range 50 {
		data := content(uint64(200+i), 2*bs)
		k := keyOf("nas", fmt.Sprintf("race-%d", i), data)
		good, changed := newOrigin(data), newOrigin(data)
		good.statOK = true
		changed.statOK, changed.modT = true, mtime.Add(time.Second)
		hang := make(chan struct{})
		good.hang.Store(&hang)
		changed.hang.Store(&hang)
		rg, rc := open(t, s, k, good), open(t, s, k, changed)
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = rg.ReadAt(t.Context(), make([]byte, 10), bs) })
		wg.Go(func() { _, _ = rc.ReadAt(t.Context(), make([]byte, 10), 0) })
		for good.inflight.Load() == 0 || changed.inflight.Load() == 0 {
			runtime.Gosched()
		}
		close(hang)
		wg.Wait()
		rg.Close()
		rc.Close()
	}
	entries := map[string]bool{}
	for _, e := range s.Entries() {
		entries[e.ID] = true
	}
	if left := unaccountedFills(t, s.Dir(), entries); len(left) > 0 {
		t.Fatalf("%d fill files on disk that no entry accounts for, e.g. %s", len(left), left[0])
	}
}
