package cas_test

import (
	"bytes"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/internal/testing/promtest"
)

func TestDamagedFillBlockIsRefetched(t *testing.T) {
	for _, offline := range []bool{false, true} {
		name := map[bool]string{false: "origin online", true: "origin offline"}[offline]
		t.Run(name, func(t *testing.T) {
			s, reg := startStore(t, testConfig(t))
			data := content(10, 6*bs)
			o := newOrigin(data)
			k := keyOf("nas", "partial.flac", data)
			r := open(t, s, k, o)
			p := make([]byte, 2*bs)
			if _, err := r.ReadAt(t.Context(), p, 0); err != nil { // blocks 0 and 1: a partial track
				t.Fatal(err)
			}
			// A warm read verifies block 1 under the current file stamp.
			if _, err := r.ReadAt(t.Context(), p[:100], bs); err != nil {
				t.Fatal(err)
			}
			faults.FlipByte(t, entryFile(t, s, s.Dir(), "fill/"), bs+50)
			o.offline.Store(offline)
			calls := o.calls.Load()

			n, err := r.ReadAt(t.Context(), p[:200], bs)
			if offline {
				if err == nil {
					t.Fatal("damaged block served with the origin offline")
				}
				if n > 50 && !bytes.Equal(p[:n], data[bs:bs+n]) {
					t.Fatal("wrong bytes served")
				}
			} else {
				if err != nil || !bytes.Equal(p[:n], data[bs:bs+200]) {
					t.Fatalf("read after damage: %d, %v, right bytes %v", n, err, bytes.Equal(p[:n], data[bs:bs+200]))
				}
				if o.calls.Load() != calls+1 {
					t.Fatalf("%d origin reads for the refetch, want 1", o.calls.Load()-calls)
				}
			}
			if got := promtest.Value(t, reg, "musicfs_cache_integrity_failures_total"); got != 1 {
				t.Fatalf("integrity failures = %v, want 1", got)
			}
			// Block 0 is intact and still served, online or not.
			if n, err := r.ReadAt(t.Context(), p[:bs], 0); err != nil || !bytes.Equal(p[:n], data[:bs]) {
				t.Fatalf("intact block: %d, %v", n, err)
			}
		})
	}
}

// A damaged blob that no Reader holds is dropped and fetched again (one
// that is held is repaired in place: see TestOpenBlobDamagedIsRepairedInPlace).
func TestDamagedBlobIsDroppedAndRefetched(t *testing.T) {
	for _, offline := range []bool{false, true} {
		name := map[bool]string{false: "origin online", true: "origin offline"}[offline]
		t.Run(name, func(t *testing.T) {
			s, reg := startStore(t, testConfig(t))
			data := content(11, 5*bs+77)
			o := newOrigin(data)
			k := keyOf("nas", "whole.flac", data)
			fetchAll(t, s, k, o)
			r0 := open(t, s, k, o)
			mustReadAll(t, r0, data) // verified
			r0.Close()
			faults.FlipByte(t, entryFile(t, s, s.Dir(), "blobs/"), 3*bs+1)
			o.offline.Store(offline)

			r := open(t, s, k, o)
			if _, ok := r.Blob(); ok {
				t.Fatal("a damaged blob offered for passthrough")
			}
			got, err := readAll(r, k.Size, 1000)
			if offline {
				if err == nil {
					t.Fatal("damaged blob read with the origin offline")
				}
				if !bytes.Equal(got, data[:len(got)]) {
					t.Fatal("wrong bytes served")
				}
			} else if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read after damage: %v, right bytes %v", err, bytes.Equal(got, data))
			}
			if got := promtest.Value(t, reg, "musicfs_cache_integrity_failures_total"); got != 1 {
				t.Fatalf("integrity failures = %v, want 1", got)
			}
			if !offline {
				fetchAll(t, s, k, o)
				if _, ok := open(t, s, k, o).Blob(); !ok {
					t.Fatal("track not a blob again after refetching")
				}
			}
		})
	}
}

func TestBlobVerifiedOnFirstOpenAfterStart(t *testing.T) {
	cfg := testConfig(t)
	s, _ := startStore(t, cfg)
	data := content(12, 4*bs)
	o := newOrigin(data)
	k := keyOf("nas", "a", data)
	fetchAll(t, s, k, o)
	stop(t, s)

	// Damage the blob and put its mtime back: only a full hash can tell.
	path := entryFile(t, s, cfg.Dir, "blobs/")
	faults.FlipByte(t, path, 10)
	if err := chtimes(path, mtime); err != nil {
		t.Fatal(err)
	}
	s2, reg := startStore(t, cfg)
	got, err := readAll(open(t, s2, k, o), k.Size, 4096)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %v", err)
	}
	if promtest.Value(t, reg, "musicfs_cache_integrity_failures_total") != 1 {
		t.Fatal("damage not detected")
	}
}

func TestScrubDropsDamagedBlob(t *testing.T) {
	cfg := testConfig(t)
	s, _ := startStore(t, cfg)
	data := content(13, 8*bs)
	k := keyOf("nas", "scrubbed", data)
	fetchAll(t, s, k, newOrigin(data))
	stop(t, s)
	faults.FlipByte(t, entryFile(t, s, cfg.Dir, "blobs/"), 5*bs)

	cfg.ScrubRate = 1 << 30
	s2, reg := startStore(t, cfg)
	deadline := time.Now().Add(10 * time.Second)
	for promtest.Value(t, reg, "musicfs_cache_integrity_failures_total") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("scrub did not find the damaged blob")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, complete := s2.Cached(k); complete {
		t.Fatal("damaged blob still cached")
	}
	if len(s2.Entries()) != 0 {
		t.Fatalf("entries left: %+v", s2.Entries())
	}
}

func TestScrubKeepsIntactBlobs(t *testing.T) {
	cfg := testConfig(t)
	cfg.ScrubRate = 1 << 30
	s, reg := startStore(t, cfg)
	data := content(14, 8*bs)
	k := keyOf("nas", "fine", data)
	fetchAll(t, s, k, newOrigin(data))
	stop(t, s)
	s2, _ := startStore(t, cfg)
	o := newOrigin(data)
	o.offline.Store(true)
	// The scrub and the first open both hash it; neither finds a fault.
	mustReadAll(t, open(t, s2, k, o), data)
	if promtest.Value(t, reg, "musicfs_cache_integrity_failures_total") != 0 {
		t.Fatal("intact blob reported damaged")
	}
}

// A blob damaged while a Reader has it open is not served: every daemon
// read notices that the file changed since it was verified and re-verifies
// it first.
func TestBlobDamagedWhileOpenIsNotServed(t *testing.T) {
	for _, offline := range []bool{false, true} {
		name := map[bool]string{false: "origin online", true: "origin offline"}[offline]
		t.Run(name, func(t *testing.T) {
			s, reg := startStore(t, testConfig(t))
			data := content(15, 4*bs)
			o := newOrigin(data)
			k := keyOf("nas", "x.flac", data)
			fetchAll(t, s, k, o)
			r := open(t, s, k, o) // verified at open
			p := make([]byte, 100)
			if _, err := r.ReadAt(t.Context(), p, 0); err != nil { // warm
				t.Fatal(err)
			}
			faults.FlipByte(t, entryFile(t, s, s.Dir(), "blobs/"), bs+5)
			o.offline.Store(offline)

			n, err := r.ReadAt(t.Context(), p, bs)
			if n > 0 && !bytes.Equal(p[:n], data[bs:bs+n]) {
				t.Fatal("wrong bytes served from the open blob")
			}
			if offline == (err == nil) {
				t.Fatalf("read after damage: %d, %v", n, err)
			}
			if got := promtest.Value(t, reg, "musicfs_cache_integrity_failures_total"); got != 1 {
				t.Fatalf("integrity failures = %v, want 1", got)
			}
		})
	}
}

// A blob whose file changed without changing its content (here: a chmod,
// which moves its ctime) is re-verified and kept.
func TestBlobTouchedWhileOpenIsKept(t *testing.T) {
	s, reg := startStore(t, testConfig(t))
	data := content(16, 4*bs)
	o := newOrigin(data)
	k := keyOf("nas", "y.flac", data)
	fetchAll(t, s, k, o)
	r := open(t, s, k, o)
	path := entryFile(t, s, s.Dir(), "blobs/")
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	o.offline.Store(true)
	mustReadAll(t, r, data)
	if got := promtest.Value(t, reg, "musicfs_cache_integrity_failures_total"); got != 0 {
		t.Fatalf("integrity failures = %v, want 0", got)
	}
	if _, complete := s.Cached(k); !complete {
		t.Fatal("intact blob dropped")
	}
}

// Close racing a read of a present fill block must not blame the block
// for the read failing on the closed file.
func TestCloseRacingReadKeepsGoodBlock(t *testing.T) {
	s, reg := startStore(t, testConfig(t))
	data := content(17, 8*bs)
	o := newOrigin(data)
	k := keyOf("nas", "z.flac", data)
	if err := s.Fetch(t.Context(), k, o.open, 0, 2*bs); err != nil { // partial: blocks 0, 1
		t.Fatal(err)
	}
	p := make([]byte, 4096)
	for i := range 2000 {
		r, err := s.Open(k, o.open)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = r.ReadAt(t.Context(), p, 0) // opens the fill for r
		var wg sync.WaitGroup
		wg.Go(func() { _, _ = r.ReadAt(t.Context(), p, int64(i%2)*bs) })
		wg.Go(func() { r.Close() })
		wg.Wait()
		if got := promtest.Value(t, reg, "musicfs_cache_integrity_failures_total"); got != 0 {
			t.Fatalf("integrity failures = %v after Close raced reads of intact blocks", got)
		}
	}
}
