package cas_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
)

const mib = 1 << 20

// readAt reads len(want) bytes at off through r and checks them.
func readAt(t *testing.T, r *cas.Reader, off int64, want []byte) {
	t.Helper()
	got := make([]byte, len(want))
	if n, err := r.ReadAt(context.Background(), got, off); n != len(got) || err != nil {
		t.Fatalf("ReadAt(%d, %d) = %d, %v", len(got), off, n, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("ReadAt(%d, %d): bytes differ from the origin's", len(got), off)
	}
}

// A library scanner reads the head (and maybe the tail) of a file once: it
// costs the origin the chunks it asked for, not whole blocks, and nothing
// on disk. The same open reading there again costs nothing more; another
// open asking for the same data again admits its block to the cache.
func TestProbeReadsStayOutOfTheCache(t *testing.T) {
	cfg := testConfig(t)
	cfg.BlockSize = mib
	s, reg := startStore(t, cfg)
	data := content(48, 3*mib+1000)
	k := keyOf("nas", "scan.flac", data)
	o := newOrigin(data)

	r := open(t, s, k, o)
	readAt(t, r, 0, data[:10])                  // an ID3 header
	readAt(t, r, 10, data[10:40000])            // the tag after it
	readAt(t, r, k.Size-128, data[k.Size-128:]) // ID3v1 at the end
	if got, want := o.bytes.Load(), int64(64<<10+1000); got != want {
		t.Fatalf("a scanner's reads fetched %d bytes from the origin, want %d (one 64 KiB chunk at the head, the tail's)", got, want)
	}
	if u := s.Usage(); u != 0 {
		t.Fatalf("a scanner's reads took %d bytes of cache, want 0", u)
	}
	if g := promtest.Value(t, reg, "musicfs_cache_probation_bytes"); g != float64(64<<10+1000) {
		t.Fatalf("probation holds %v bytes, want the two chunks", g)
	}
	r.Close()

	// Asked for again by another open: worth caching.
	r = open(t, s, k, o)
	readAt(t, r, 0, data[:4096])
	if present, _ := s.Cached(k); present != mib {
		t.Fatalf("after a second access to the head, %d bytes cached, want its block", present)
	}
}

// Playback (reads in sequence) fetches whole blocks into the cache, after
// a short run of probes whose chunks the first block's fetch takes over:
// nothing is read from the origin twice.
func TestSequentialReadsAreCached(t *testing.T) {
	cfg := testConfig(t)
	cfg.BlockSize = mib
	s, _ := startStore(t, cfg)
	data := content(49, 3*mib)
	k := keyOf("nas", "play.flac", data)
	o := newOrigin(data)
	r := open(t, s, k, o)
	for off := int64(0); off < k.Size; off += 128 << 10 {
		readAt(t, r, off, data[off:off+128<<10])
	}
	if present, _ := s.Cached(k); present != k.Size {
		t.Fatalf("after a sequential read %d of %d bytes cached", present, k.Size)
	}
	if got := o.bytes.Load(); got != k.Size {
		t.Fatalf("a sequential read fetched %d bytes for %d", got, k.Size)
	}
}

// The probation queue is bounded: a scan of many files keeps only the
// most recent heads in memory.
func TestProbationIsBounded(t *testing.T) {
	cfg := testConfig(t)
	cfg.BlockSize = mib
	s, reg := startStore(t, cfg)
	data := content(50, 2*mib)
	o := newOrigin(data)
	for i := range 600 { // 600 × 64 KiB = 37.5 MiB
		k := keyOf("nas", "t"+string(rune('a'+i%26))+string(rune('a'+i/26)), data)
		r := open(t, s, k, o)
		readAt(t, r, 0, data[:4096])
		r.Close()
	}
	if g := promtest.Value(t, reg, "musicfs_cache_probation_bytes"); g > 32<<20 || g < 31<<20 {
		t.Fatalf("probation holds %v bytes after 600 heads, want just under its 32 MiB bound", g)
	}
	if u := s.Usage(); u != 0 {
		t.Fatalf("600 heads took %d bytes of cache, want 0", u)
	}
}
