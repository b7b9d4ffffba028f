package cas_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/fsnotify/fsnotify"
	"github.com/zeebo/blake3"
)

// Tracks with identical content completing at the same moment share one
// blob: exactly one promotion renames its fill onto the blob's name, the
// others find it there and drop their copies.
func TestConcurrentPromotionsOfOneContentRenameOnce(t *testing.T) {
	// On tmpfs, where fsync is free, nothing spaces the promotions out.
	cfg := testConfig(t)
	cfg.Dir = filepath.Join(tmpfs(t, "16m"), "cache")
	s, _ := startStore(t, cfg)
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	const tracks = 8
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4 * tracks)) // more promotions at once
	for round := range 20 {
		data := content(uint64(300+round), 4*bs)
		sum := blake3.Sum256(data)
		hash := hex.EncodeToString(sum[:])
		dir := filepath.Join(s.Dir(), "blobs", hash[:2])
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := w.Add(dir); err != nil {
			t.Fatal(err)
		}
		// The last blocks arrive together, so the promotions run together.
		hang := make(chan struct{})
		var inflight sync.WaitGroup
		var wg sync.WaitGroup
		for i := range tracks {
			k := keyOf(fmt.Sprint("o", i), fmt.Sprintf("same-%d", round), data)
			o := newOrigin(data)
			if err := s.Fetch(t.Context(), k, o.open, 0, 3*bs); err != nil {
				t.Fatal(err)
			}
			o.hang.Store(&hang)
			inflight.Go(func() {
				for o.inflight.Load() == 0 {
					runtime.Gosched()
				}
			})
			wg.Go(func() { fetchAll(t, s, k, o) })
		}
		inflight.Wait()
		close(hang)
		wg.Wait()

		// Count renames onto the blob, up to a marker created afterwards.
		marker := filepath.Join(dir, "marker")
		if err := os.WriteFile(marker, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		created := 0
		for ev := range w.Events {
			if ev.Name == marker {
				break
			}
			if ev.Has(fsnotify.Create) && filepath.Base(ev.Name) == hash {
				created++
			}
		}
		os.Remove(marker)
		w.Remove(dir)
		if created != 1 {
			t.Fatalf("round %d: the blob was created %d times, want once", round, created)
		}
		if n := len(s.Entries()); n != round+1 {
			t.Fatalf("round %d: %d entries, want %d blobs", round, n, round+1)
		}
	}
}
