package cas

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// memFile is an origin file held in memory.
type memFile struct{ data []byte }

func (f memFile) ReadAt(_ context.Context, p []byte, off int64) (int, error) {
	n := copy(p, f.data[min(off, int64(len(f.data))):])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
func (memFile) Stat(context.Context) (fs.FileInfo, error) { return nil, errors.ErrUnsupported }
func (memFile) Close() error                              { return nil }

// Blocks fetched side by side are written into the fill file one at a
// time, so no write's stamps include another's and none reads as an
// outside edit: every block stays verified, so neither readers nor the
// promotion hash it again.
func TestOverlappingWritesKeepBlocksVerified(t *testing.T) {
	const blocks, bsize = 64, 64 << 10
	data := bytes.Repeat([]byte("0123456789abcdef"), blocks*bsize/16)
	s, err := New(Params{Config: Config{Dir: t.TempDir(), BlockSize: bsize}, Logger: zap.NewNop(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Stop(context.Background()) })
	k := Key{Origin: "nas", RelPath: "a.flac", Size: int64(len(data)) + 1, ModTime: time.Unix(1, 0)}
	data = append(data, 'x') // one byte more: the track stays a fill
	open := func(context.Context) (origins.File, error) { return memFile{data}, nil }

	var wg sync.WaitGroup
	for i := range blocks {
		wg.Go(func() {
			if err := s.Fetch(t.Context(), k, open, int64(i)*bsize, bsize); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	fl := s.tracks[encodeKey(k)].fill
	if fl.writing {
		t.Error("a write still marked running")
	}
	for i := range blocks {
		if !fl.present[i] || !fl.verified[i] {
			t.Errorf("block %d: present %v, verified %v", i, fl.present[i], fl.verified[i])
		}
	}
	f, err := os.Open(s.path(fillRel(fl.id)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := fstat(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	if !st.same(fl.stamp) {
		t.Errorf("fill stamp %+v, file has %+v", fl.stamp, st)
	}
}
