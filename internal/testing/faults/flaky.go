package faults

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/musicfs/musicfs/modules/origins"
)

// Flaky is an origins.Set that behaves like a NAS over a poor link: every
// ReadAt waits Latency and is throttled to Rate bytes per second, and the
// whole set can be switched offline (every call fails with an error
// wrapping origins.ErrOffline) or hung (reads block until it is switched
// back). It counts what is read, in total and per relpath.
type Flaky struct {
	origins.Set
	Latency time.Duration // per ReadAt call
	Rate    int64         // bytes per second per call; 0 is unlimited

	offline atomic.Bool
	mu      sync.Mutex    // guards hung
	hung    chan struct{} // closed when a hang ends; nil when not hung
	bytes   atomic.Int64
	calls   atomic.Int64
	blocked atomic.Int64 // reads waiting in a hang now
	perPath sync.Map     // relpath → *atomic.Int64 bytes
}

// NewFlaky wraps s.
func NewFlaky(s origins.Set, latency time.Duration, rate int64) *Flaky {
	return &Flaky{Set: s, Latency: latency, Rate: rate}
}

// SetOffline switches the origins off or back on.
func (f *Flaky) SetOffline(off bool) { f.offline.Store(off) }

// Hang makes reads block until Resume.
func (f *Flaky) Hang() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hung == nil {
		f.hung = make(chan struct{})
	}
}

// Resume ends a Hang.
func (f *Flaky) Resume() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.hung != nil {
		close(f.hung)
		f.hung = nil
	}
}

// Bytes is how many bytes ReadAt returned, over all files.
func (f *Flaky) Bytes() int64 { return f.bytes.Load() }

// Blocked is how many reads are waiting in a Hang right now.
func (f *Flaky) Blocked() int64 { return f.blocked.Load() }

// Calls is how many ReadAt calls were made.
func (f *Flaky) Calls() int64 { return f.calls.Load() }

// BytesOf is how many bytes were read from relpath (in any origin).
func (f *Flaky) BytesOf(relpath string) int64 {
	if v, ok := f.perPath.Load(relpath); ok {
		return v.(*atomic.Int64).Load()
	}
	return 0
}

// Reset zeroes the counters.
func (f *Flaky) Reset() {
	f.bytes.Store(0)
	f.calls.Store(0)
	f.perPath.Clear()
}

func (f *Flaky) errOffline(op string) error {
	return fmt.Errorf("faults: %s: origin switched off: %w", op, origins.ErrOffline)
}

// Get wraps the named origin.
func (f *Flaky) Get(name string) (origins.Origin, bool) {
	o, ok := f.Set.Get(name)
	if !ok {
		return nil, false
	}
	return flakyOrigin{o, f}, true
}

// List wraps every origin.
func (f *Flaky) List() []origins.Origin {
	var out []origins.Origin
	for _, o := range f.Set.List() {
		out = append(out, flakyOrigin{o, f})
	}
	return out
}

type flakyOrigin struct {
	origins.Origin
	f *Flaky
}

func (o flakyOrigin) Online() bool { return !o.f.offline.Load() && o.Origin.Online() }

// Check reports the switch as well as the wrapped origin's health.
func (o flakyOrigin) Check(ctx context.Context) bool {
	o.Origin.Check(ctx)
	return o.Online()
}

func (o flakyOrigin) Walk(ctx context.Context, fn func(origins.Entry) error) error {
	if o.f.offline.Load() {
		return o.f.errOffline("walk")
	}
	return o.Origin.Walk(ctx, fn)
}

func (o flakyOrigin) WalkDir(ctx context.Context, dir string, fn func(origins.Entry) error) error {
	if o.f.offline.Load() {
		return o.f.errOffline("walk")
	}
	return o.Origin.WalkDir(ctx, dir, fn)
}

func (o flakyOrigin) Stat(ctx context.Context, rel string) (fs.FileInfo, error) {
	if o.f.offline.Load() {
		return nil, o.f.errOffline("stat")
	}
	return o.Origin.Stat(ctx, rel)
}

func (o flakyOrigin) Open(ctx context.Context, rel string) (origins.File, error) {
	if o.f.offline.Load() {
		return nil, o.f.errOffline("open")
	}
	file, err := o.Origin.Open(ctx, rel)
	if err != nil {
		return nil, err
	}
	v, _ := o.f.perPath.LoadOrStore(rel, new(atomic.Int64))
	return &flakyFile{File: file, f: o.f, count: v.(*atomic.Int64)}, nil
}

type flakyFile struct {
	origins.File
	f     *Flaky
	count *atomic.Int64
}

// ReadAt blocks while the set is hung, as a read of a hung NAS does,
// until Resume or until ctx is done.
func (ff *flakyFile) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	f := ff.f
	f.mu.Lock()
	hung := f.hung
	f.mu.Unlock()
	if hung != nil {
		f.blocked.Add(1)
		select {
		case <-hung:
		case <-ctx.Done():
		}
		f.blocked.Add(-1)
		if ctx.Err() != nil {
			return 0, context.Cause(ctx)
		}
	}
	if f.offline.Load() {
		return 0, f.errOffline("read")
	}
	delay := f.Latency
	if f.Rate > 0 {
		delay += time.Duration(int64(len(p)) * int64(time.Second) / f.Rate)
	}
	time.Sleep(delay)
	n, err := ff.File.ReadAt(ctx, p, off)
	f.calls.Add(1)
	f.bytes.Add(int64(n))
	ff.count.Add(int64(n))
	return n, err
}

// FlipByte inverts the byte at off of the file at path, as bit rot or a
// stray write would.
func FlipByte(tb testing.TB, path string, off int64) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		tb.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		tb.Fatal(err)
	}
}
