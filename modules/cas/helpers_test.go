package cas_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/origins"
)

const bs = 4096 // block size of most tests

var mtime = time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC)

// content returns n deterministic pseudo-random bytes.
func content(seed uint64, n int) []byte {
	r := rand.New(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 7}))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// fakeOrigin serves one file from memory and counts what is asked of it.
// It can go offline, hang, or be slow.
type fakeOrigin struct {
	mu     sync.Mutex
	data   []byte
	reads  map[int64]int // ReadAt calls by offset
	opens  atomic.Int64
	calls  atomic.Int64
	bytes  atomic.Int64
	delay  time.Duration
	modT   time.Time // what Stat reports
	statOK bool      // Stat reports size and modT; else it cannot tell

	offline  atomic.Bool
	hang     atomic.Pointer[chan struct{}] // reads block until it is closed
	inflight atomic.Int64
	maxIn    atomic.Int64
}

func newOrigin(data []byte) *fakeOrigin {
	return &fakeOrigin{data: data, reads: map[int64]int{}, modT: mtime}
}

var errOriginIO = fmt.Errorf("fake origin: %w", syscall.EIO)

func (o *fakeOrigin) open(context.Context) (origins.File, error) {
	o.opens.Add(1)
	if o.offline.Load() {
		return nil, fmt.Errorf("fake origin: %w", origins.ErrOffline)
	}
	return fakeFile{o}, nil
}

func (o *fakeOrigin) setData(b []byte) {
	o.mu.Lock()
	o.data = b
	o.mu.Unlock()
}

// readsAt returns how many ReadAt calls asked for offset off.
func (o *fakeOrigin) readsAt(off int64) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.reads[off]
}

type fakeFile struct{ o *fakeOrigin }

func (f fakeFile) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	o := f.o
	n := o.inflight.Add(1)
	defer o.inflight.Add(-1)
	for {
		m := o.maxIn.Load()
		if n <= m || o.maxIn.CompareAndSwap(m, n) {
			break
		}
	}
	o.calls.Add(1)
	o.mu.Lock()
	o.reads[off]++
	data := o.data
	o.mu.Unlock()
	if ch := o.hang.Load(); ch != nil {
		select {
		case <-*ch:
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
	}
	if o.delay > 0 {
		time.Sleep(o.delay)
	}
	if o.offline.Load() {
		return 0, errOriginIO
	}
	if off >= int64(len(data)) {
		return 0, io.EOF
	}
	n2 := copy(p, data[off:])
	o.bytes.Add(int64(n2))
	if n2 < len(p) {
		return n2, io.EOF
	}
	return n2, nil
}

func (fakeFile) Close() error { return nil }

// Stat reports the size and modTime, or that it cannot tell unless statOK.
func (f fakeFile) Stat(context.Context) (fs.FileInfo, error) {
	if !f.o.statOK {
		return nil, errors.ErrUnsupported
	}
	f.o.mu.Lock()
	defer f.o.mu.Unlock()
	return fileInfo{size: int64(len(f.o.data)), mod: f.o.modT}, nil
}

type fileInfo struct {
	size int64
	mod  time.Time
}

func (fi fileInfo) Name() string       { return "f" }
func (fi fileInfo) Size() int64        { return fi.size }
func (fi fileInfo) Mode() fs.FileMode  { return 0o644 }
func (fi fileInfo) ModTime() time.Time { return fi.mod }
func (fi fileInfo) IsDir() bool        { return false }
func (fi fileInfo) Sys() any           { return nil }

func keyOf(origin, rel string, data []byte) cas.Key {
	return cas.Key{Origin: origin, RelPath: rel, Size: int64(len(data)), ModTime: mtime}
}

func testConfig(t *testing.T) cas.Config {
	return cas.Config{Dir: filepath.Join(t.TempDir(), "cache"), BlockSize: bs, ReadTimeout: 2 * time.Second}
}

// startStore builds and starts a store on cfg, stopped at cleanup.
func startStore(t *testing.T, cfg cas.Config) (*cas.Store, *prometheus.Registry) {
	t.Helper()
	return startStoreLogged(t, cfg, zaptest.NewLogger(t))
}

func startStoreLogged(t *testing.T, cfg cas.Config, log *zap.Logger) (*cas.Store, *prometheus.Registry) {
	t.Helper()
	return startStoreParams(t, cas.Params{Config: cfg, Logger: log})
}

// startStoreWith starts a store whose limits sp keeps.
func startStoreWith(t *testing.T, cfg cas.Config, sp cas.Space) (*cas.Store, *prometheus.Registry) {
	t.Helper()
	return startStoreParams(t, cas.Params{Config: cfg, Logger: zaptest.NewLogger(t), Space: sp})
}

func startStoreParams(t *testing.T, p cas.Params) (*cas.Store, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	p.Registerer = reg
	s, err := cas.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return s, reg
}

func stop(t *testing.T, s *cas.Store) {
	t.Helper()
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, s *cas.Store, k cas.Key, o *fakeOrigin) *cas.Reader {
	t.Helper()
	r, err := s.Open(k, o.open)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// readAll reads r sequentially in chunks of n bytes, as a player does.
func readAll(r *cas.Reader, size int64, n int) ([]byte, error) {
	out := make([]byte, 0, size)
	buf := make([]byte, n)
	for off := int64(0); ; {
		m, err := r.ReadAt(context.Background(), buf, off)
		out = append(out, buf[:m]...)
		off += int64(m)
		if errors.Is(err, io.EOF) {
			if off != size {
				return out, fmt.Errorf("EOF at %d, size %d", off, size)
			}
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func mustReadAll(t *testing.T, r *cas.Reader, want []byte) {
	t.Helper()
	got, err := readAll(r, int64(len(want)), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("bytes differ from the origin's")
	}
}

// fetchAll makes k complete (waiting for its blob).
func fetchAll(t *testing.T, s *cas.Store, k cas.Key, o *fakeOrigin) {
	t.Helper()
	if err := s.Fetch(context.Background(), k, o.open, 0, k.Size); err != nil {
		t.Fatal(err)
	}
	if _, complete := s.Cached(k); !complete {
		t.Fatal("track not complete after Fetch")
	}
}

// entryFile returns the path of the only entry of the given kind (blobs/
// or fill/).
func entryFile(t *testing.T, s *cas.Store, dir, prefix string) string {
	t.Helper()
	var found []string
	for _, e := range s.Entries() {
		if len(e.ID) > len(prefix) && e.ID[:len(prefix)] == prefix {
			found = append(found, e.ID)
		}
	}
	if len(found) != 1 {
		t.Fatalf("entries %q: want one with prefix %s", found, prefix)
	}
	return filepath.Join(dir, filepath.FromSlash(found[0]))
}
