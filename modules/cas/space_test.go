package cas_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
)

// space is a cas.Space that refuses the first `fail` calls (-1: all).
type space struct {
	fail  int64
	calls atomic.Int64
}

func (sp *space) MakeRoom(_ cas.Inventory, need int64) error {
	if n := sp.calls.Add(1); sp.fail < 0 || n <= sp.fail {
		return fmt.Errorf("need %d: %w", need, cas.ErrNoSpace)
	}
	return nil
}

func (sp *space) Reclaim(inv cas.Inventory, need int64) error { return sp.MakeRoom(inv, need) }

func TestNoRoomServesUncached(t *testing.T) {
	sp := &space{fail: -1}
	s, reg := startStoreWith(t, testConfig(t), sp)
	data := content(30, 6*bs+3)
	o := newOrigin(data)
	k := keyOf("nas", "nospace", data)
	mustReadAll(t, open(t, s, k, o), data)
	if present, _ := s.Cached(k); present != 0 || s.Usage() != 0 {
		t.Fatalf("stored %d bytes (usage %d) with no room", present, s.Usage())
	}
	if got := sp.calls.Load(); got != 14 {
		t.Fatalf("MakeRoom called %d times, want 14 (twice per block)", got)
	}
	if got := promtest.Value(t, reg, "musicfs_cache_store_failures_total"); got != 7 {
		t.Fatalf("store failures = %v, want 7", got)
	}
	if err := s.Fetch(t.Context(), k, o.open, 0, k.Size); !errors.Is(err, cas.ErrNoSpace) {
		t.Fatalf("Fetch with no room: %v, want ErrNoSpace", err)
	}
}

func TestRoomMadeOnRetryIsUsed(t *testing.T) {
	s, _ := startStoreWith(t, testConfig(t), &space{fail: 1})
	data := content(31, 2*bs)
	k := keyOf("nas", "retry", data)
	mustReadAll(t, open(t, s, k, newOrigin(data)), data)
	if present, _ := s.Cached(k); present != k.Size {
		t.Fatalf("present %d, want %d: the retry after MakeRoom should store", present, k.Size)
	}
}

// tmpfs mounts a tmpfs of the given size in a temporary directory, unmounted
// at cleanup; it skips the test where mounting is not allowed.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	mnt := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(mnt, syscall.MNT_DETACH) })
	return mnt
}

// TestDiskFullServesUncached puts the cache on a tiny tmpfs, so block
// writes really fail with ENOSPC.
func TestDiskFullServesUncached(t *testing.T) {
	cfg := testConfig(t)
	cfg.Dir = filepath.Join(tmpfs(t, "64k"), "cache")
	s, reg := startStore(t, cfg)
	data := content(32, 64*bs) // 256 KiB: four times the filesystem
	k := keyOf("nas", "big", data)
	mustReadAll(t, open(t, s, k, newOrigin(data)), data)
	if promtest.Value(t, reg, "musicfs_cache_store_failures_total") == 0 {
		t.Fatal("no store failure on a full disk")
	}
	// What was stored is served from the cache; the rest from the origin.
	o := newOrigin(data)
	mustReadAll(t, open(t, s, k, o), data)
	present, _ := s.Cached(k)
	if present == 0 || present == k.Size || o.bytes.Load() != k.Size-present {
		t.Fatalf("present %d of %d, second play read %d from the origin", present, k.Size, o.bytes.Load())
	}
}

// A block fetched into a fill that was replaced meanwhile (another read
// found the origin changed) is fetched again into the new fill; Fetch does
// not report that as a full cache.
func TestFetchRetriesBlockWhoseFillWasReplaced(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	data := content(33, 3*bs)
	k := keyOf("nas", "moving.flac", data)
	good := newOrigin(data)
	good.statOK = true
	hang := make(chan struct{})
	good.hang.Store(&hang)
	done := make(chan error, 1)
	go func() { done <- s.Fetch(t.Context(), k, good.open, bs, bs) }()
	for good.inflight.Load() == 0 {
		runtime.Gosched()
	}
	// Meanwhile a reader finds the file changed: the fill is reset.
	changed := newOrigin(data)
	changed.statOK, changed.modT = true, mtime.Add(time.Second)
	if _, err := open(t, s, k, changed).ReadAt(t.Context(), make([]byte, 10), 0); !errors.Is(err, cas.ErrChanged) {
		t.Fatalf("read of the changed file: %v, want ErrChanged", err)
	}
	good.hang.Store(nil)
	close(hang)
	if err := <-done; err != nil {
		t.Fatalf("Fetch: %v, want the block fetched again into the new fill", err)
	}
	if present, _ := s.Cached(k); present != bs {
		t.Fatalf("present %d, want %d", present, bs)
	}
}

// reclaimer grants every MakeRoom (its accounting sees room) but only
// Reclaim, after a real ENOSPC, actually frees the disk.
type reclaimer struct {
	space
	reclaims atomic.Int64
	free     func()
}

func (r *reclaimer) Reclaim(_ cas.Inventory, need int64) error {
	r.reclaims.Add(1)
	r.free()
	return nil
}

// A write that fails with ENOSPC although the Space saw room (min_free 0,
// other programs filling the disk) asks the Space to reclaim, and retries.
func TestENOSPCAsksTheSpaceToReclaim(t *testing.T) {
	dir := tmpfs(t, "4m")
	cfg := testConfig(t)
	cfg.Dir = filepath.Join(dir, "cache")
	ballast := filepath.Join(dir, "ballast")
	r := &reclaimer{free: func() { os.Remove(ballast) }}
	s, reg := startStoreWith(t, cfg, r)
	// Another program fills the disk to the last byte.
	f, err := os.Create(ballast)
	if err != nil {
		t.Fatal(err)
	}
	for chunk := make([]byte, 4096); err == nil; {
		_, err = f.Write(chunk)
	}
	f.Close()
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("fill the tmpfs: %v", err)
	}
	data := content(32, 2*bs)
	k := keyOf("nas", "reclaim", data)
	mustReadAll(t, open(t, s, k, newOrigin(data)), data)
	if r.reclaims.Load() == 0 {
		t.Fatal("ENOSPC did not ask the Space to reclaim")
	}
	if present, _ := s.Cached(k); present != k.Size {
		t.Fatalf("present %d of %d after reclaiming", present, k.Size)
	}
	if got := promtest.Value(t, reg, "musicfs_cache_store_failures_total"); got != 0 {
		t.Fatalf("store failures = %v, want 0", got)
	}
}
