package cas_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/cas"
)

// benchStore returns a started store with one 32 MiB track, complete or
// with every block present but not promoted (partial).
func benchStore(tb testing.TB, complete bool) (*cas.Store, cas.Key, *fakeOrigin) {
	s, err := cas.New(cas.Params{Config: cas.Config{Dir: filepath.Join(tb.TempDir(), "c"), ReadTimeout: time.Minute},
		Logger: zap.NewNop()})
	if err != nil {
		tb.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Stop(context.Background()) })
	data := content(60, 32<<20)
	o := newOrigin(data)
	k := keyOf("nas", "bench", data)
	end := k.Size
	if !complete {
		end-- // the last block stays missing
	}
	if err := s.Fetch(context.Background(), k, o.open, 0, end-(end%(1<<20))); err != nil {
		tb.Fatal(err)
	}
	return s, k, o
}

func benchRead(b *testing.B, r func([]byte, int64) (int, error), size int64, chunk int, random bool) {
	buf := make([]byte, chunk)
	b.SetBytes(int64(chunk))
	b.ReportAllocs()
	off := int64(0)
	for i := 0; b.Loop(); i++ {
		if random {
			off = (int64(i) * 7919 * 4096) % (size - int64(chunk))
		} else if off+int64(chunk) > size {
			off = 0
		}
		if _, err := r(buf, off); err != nil {
			b.Fatal(err)
		}
		off += int64(chunk)
	}
}

func BenchmarkRead(b *testing.B) {
	for _, tc := range []struct {
		name   string
		chunk  int
		random bool
	}{{"seq128k", 128 << 10, false}, {"rand4k", 4096, true}} {
		b.Run("blob/"+tc.name, func(b *testing.B) {
			s, k, o := benchStore(b, true)
			r, _ := s.Open(k, o.open)
			defer r.Close()
			benchRead(b, func(p []byte, off int64) (int, error) { return r.ReadAt(b.Context(), p, off) }, k.Size, tc.chunk, tc.random)
		})
		b.Run("partial/"+tc.name, func(b *testing.B) {
			s, k, o := benchStore(b, false)
			r, _ := s.Open(k, o.open)
			defer r.Close()
			benchRead(b, func(p []byte, off int64) (int, error) { return r.ReadAt(b.Context(), p, off) }, k.Size-(1<<20), tc.chunk, tc.random)
		})
		b.Run("plainfile/"+tc.name, func(b *testing.B) {
			p := filepath.Join(b.TempDir(), "f")
			if err := os.WriteFile(p, content(60, 32<<20), 0o600); err != nil {
				b.Fatal(err)
			}
			f, _ := os.Open(p)
			defer f.Close()
			benchRead(b, f.ReadAt, 32<<20, tc.chunk, tc.random)
		})
	}
}

// A warm read of a complete blob, or of a verified block of a partial
// track, allocates nothing.
func TestWarmReadsDoNotAllocate(t *testing.T) {
	for _, complete := range []bool{true, false} {
		s, k, o := benchStore(t, complete)
		r, err := s.Open(k, o.open)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		if _, err := r.ReadAt(t.Context(), buf, 8192); err != nil { // verifies the block
			t.Fatal(err)
		}
		if n := testing.AllocsPerRun(100, func() { r.ReadAt(t.Context(), buf, 8192) }); n != 0 {
			t.Errorf("complete=%v: %v allocations per warm read", complete, n)
		}
		r.Close()
	}
}
