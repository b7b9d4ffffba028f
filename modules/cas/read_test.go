package cas_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"testing"

	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
)

func TestReadFetchesOnceThenServesFromCache(t *testing.T) {
	cfg := testConfig(t)
	s, reg := startStore(t, cfg)
	data := content(1, 10*bs+123)
	o := newOrigin(data)
	k := keyOf("nas", "a/01.flac", data)

	r := open(t, s, k, o)
	if _, ok := r.Blob(); ok {
		t.Fatal("Blob of an uncached track")
	}
	mustReadAll(t, r, data)
	if got := o.calls.Load(); got != 11 {
		t.Fatalf("origin reads = %d, want 11 (one per block)", got)
	}
	if got := promtest.Value(t, reg, "musicfs_origin_read_bytes_total"); got != float64(len(data)) {
		t.Fatalf("origin bytes = %v, want %d", got, len(data))
	}
	fetchAll(t, s, k, o) // waits for the blob
	if o.calls.Load() != 11 {
		t.Fatal("Fetch of a cached track read the origin")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	hits, hitBytes := promtest.Value(t, reg, "musicfs_cache_hits_total"), promtest.Value(t, reg, "musicfs_cache_hit_bytes_total")
	o.offline.Store(true) // a cached track needs no origin
	r2 := open(t, s, k, o)
	f, ok := r2.Blob()
	if !ok {
		t.Fatal("no blob for a complete track")
	}
	if st, err := f.Stat(); err != nil || st.Size() != int64(len(data)) {
		t.Fatalf("blob stat: %v, %v", st, err)
	}
	mustReadAll(t, r2, data)
	if o.calls.Load() != 11 || o.opens.Load() != 1 {
		t.Fatalf("second play: %d origin reads, %d opens; want 11, 1", o.calls.Load(), o.opens.Load())
	}
	if got, want := promtest.Value(t, reg, "musicfs_cache_hits_total")-hits, float64((len(data)+999)/1000); got != want {
		t.Fatalf("hits = %v, want %v (one per 1000-byte read)", got, want)
	}
	if got := promtest.Value(t, reg, "musicfs_cache_hit_bytes_total") - hitBytes; got != float64(len(data)) {
		t.Fatalf("hit bytes = %v, want %d", got, len(data))
	}
	// The first play's bytes: those of each read that came with the block it
	// fetched are misses; the rest of a fetched block served later are hits.
	if miss := promtest.Value(t, reg, "musicfs_cache_miss_bytes_total"); miss == 0 || miss+hitBytes != float64(len(data)) {
		t.Fatalf("first play: miss bytes %v + hit bytes %v, want %d", miss, hitBytes, len(data))
	}
	if got, want := promtest.Value(t, reg, "musicfs_cache_bytes"), float64(s.Usage()); got != want || got < float64(len(data)) {
		t.Fatalf("cache bytes gauge = %v, usage %v, data %d", got, want, len(data))
	}
}

func TestReadAtBounds(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	for _, size := range []int{0, 1, bs - 1, bs, bs + 1, 3*bs + 7} {
		data := content(uint64(size), size)
		o := newOrigin(data)
		k := keyOf("nas", "bounds", data)
		k.ModTime = k.ModTime.Add(1) // a new version per size
		r := open(t, s, k, o)
		tests := []struct {
			name    string
			off     int64
			n       int
			wantN   int
			wantEOF bool
		}{
			{"start", 0, 10, min(10, size), size < 10},
			{"across a block boundary", bs - 5, 10, max(0, min(10, size-(bs-5))), size < bs+5},
			{"whole", 0, size, size, size == 0},
			{"beyond", 0, size + 100, size, true},
			{"at end", int64(size), 10, 0, true},
			{"past end", int64(size) + 5000, 10, 0, true},
			{"last byte", int64(size) - 1, 1, 1, false},
		}
		for _, tc := range tests {
			if tc.off < 0 || (tc.name == "last byte" && size == 0) || (tc.off > int64(size) && tc.name == "across a block boundary") {
				continue
			}
			p := make([]byte, tc.n)
			n, err := r.ReadAt(t.Context(), p, tc.off)
			if n != tc.wantN || (err == io.EOF) != tc.wantEOF || (err != nil && err != io.EOF) {
				t.Errorf("size %d, %s: ReadAt(%d, %d) = %d, %v; want %d, EOF %v", size, tc.name, tc.n, tc.off, n, err, tc.wantN, tc.wantEOF)
				continue
			}
			if n > 0 && !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
				t.Errorf("size %d, %s: wrong bytes", size, tc.name)
			}
		}
	}
}

func TestConcurrentReadersFetchEachBlockOnce(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	data := content(2, 64*bs+999)
	o := newOrigin(data)
	k := keyOf("nas", "hot.flac", data)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			r, err := s.Open(k, o.open)
			if err != nil {
				errs <- err
				return
			}
			defer r.Close()
			got, err := readAll(r, k.Size, 1000+g*517) // misaligned chunk sizes
			if err == nil && !bytes.Equal(got, data) {
				err = errors.New("bytes differ from the origin's")
			}
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for off := int64(0); off < k.Size; off += bs {
		if n := o.readsAt(off); n != 1 {
			t.Errorf("block at %d read from the origin %d times, want once", off, n)
		}
	}
	if o.opens.Load() > 16 {
		t.Errorf("%d opens for 16 readers", o.opens.Load())
	}
}

func TestSameContentInTwoOriginsIsOneBlob(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	data := content(3, 5*bs+1)
	k1, k2 := keyOf("nas", "x/a.flac", data), keyOf("usb", "y/b.flac", data)
	fetchAll(t, s, k1, newOrigin(data))
	usage := s.Usage()
	o2 := newOrigin(data)
	fetchAll(t, s, k2, o2)

	ents := s.Entries()
	if len(ents) != 1 {
		t.Fatalf("entries = %+v, want one blob", ents)
	}
	if len(ents[0].Keys) != 2 || ents[0].Bytes < int64(len(data)) {
		t.Fatalf("blob entry %+v: want both keys and its size", ents[0])
	}
	if s.Usage() != usage {
		t.Fatalf("usage %d after the duplicate, was %d", s.Usage(), usage)
	}
	mustReadAll(t, open(t, s, k2, o2), data)
	blobs, _ := os.ReadDir(s.Dir() + "/fill")
	if len(blobs) != 0 {
		t.Fatalf("fill files left: %v", blobs)
	}
}

func TestChangedFileIsFetchedAgain(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	old := content(4, 3*bs)
	o := newOrigin(old)
	kOld := keyOf("nas", "song.mp3", old)
	fetchAll(t, s, kOld, o)

	neu := content(5, 3*bs) // same size, new mtime
	o.setData(neu)
	kNew := kOld
	kNew.ModTime = kOld.ModTime.Add(1e9)
	mustReadAll(t, open(t, s, kNew, o), neu)

	if _, complete := s.Cached(kOld); complete {
		t.Fatal("the old version is still cached under its key")
	}
	var retired, current int
	for _, e := range s.Entries() {
		switch {
		case len(e.Keys) == 0:
			retired++ // the old blob, left to eviction
		case e.Keys[0].ModTime.Equal(kNew.ModTime):
			current++
		}
	}
	if retired != 1 || current != 1 {
		t.Fatalf("entries %+v: want the retired old blob and the new track", s.Entries())
	}
}

func TestOriginNotMatchingKeyStoresNothing(t *testing.T) {
	data := content(6, 4*bs+10)
	tests := []struct {
		name   string
		origin []byte
		stat   bool
	}{
		{"shorter", data[:3*bs+5], false},
		{"longer", append(append([]byte(nil), data...), 1, 2, 3), false},
		{"same size, new mtime (Stat)", data, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := startStore(t, testConfig(t))
			o := newOrigin(tc.origin)
			k := keyOf("nas", "f", data)
			if tc.stat {
				o.statOK = true
				o.modT = mtime.Add(5e9)
			}
			_, err := readAll(open(t, s, k, o), k.Size, bs)
			if !errors.Is(err, cas.ErrChanged) {
				t.Fatalf("read: %v, want ErrChanged", err)
			}
			if present, _ := s.Cached(k); present != 0 {
				t.Fatalf("%d bytes stored from a mismatching origin file", present)
			}
		})
	}
}

func TestFetchRange(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	data := content(7, 10*bs)
	o := newOrigin(data)
	k := keyOf("nas", "head", data)
	if err := s.Fetch(context.Background(), k, o.open, bs+1, 2*bs); err != nil {
		t.Fatal(err)
	}
	// [bs+1, 3bs+1) touches blocks 1, 2 and 3.
	if present, complete := s.Cached(k); present != 3*bs || complete {
		t.Fatalf("Cached = %d, %v; want %d, false", present, complete, 3*bs)
	}
	if o.calls.Load() != 3 {
		t.Fatalf("%d origin reads, want 3", o.calls.Load())
	}
	o.offline.Store(true)
	p := make([]byte, 3*bs)
	if n, err := open(t, s, k, o).ReadAt(t.Context(), p, bs); n != len(p) || err != nil || !bytes.Equal(p, data[bs:4*bs]) {
		t.Fatalf("reading the fetched range offline: %d, %v", n, err)
	}
}
