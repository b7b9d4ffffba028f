package cas_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/origins"
)

func TestHungOriginTimesOutAndRecovers(t *testing.T) {
	cfg := testConfig(t)
	cfg.ReadTimeout = 200 * time.Millisecond
	s, _ := startStore(t, cfg)
	data := content(40, 3*bs)
	o := newOrigin(data)
	k := keyOf("nas", "hung", data)
	r := open(t, s, k, o)

	hang := make(chan struct{})
	o.hang.Store(&hang)
	start := time.Now()
	_, err := r.ReadAt(t.Context(), make([]byte, 100), 0)
	if took := time.Since(start); !errors.Is(err, origins.ErrTimeout) || took > cfg.ReadTimeout+time.Second {
		t.Fatalf("read of a hung origin: %v after %v; want ErrTimeout within the read timeout", err, took)
	}
	// The origin comes back: the same Reader reads on, no restart.
	o.hang.Store(nil)
	close(hang)
	mustReadAll(t, r, data)
}

func TestOfflineOriginFailsUncachedReadsOnly(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	data := content(41, 4*bs)
	o := newOrigin(data)
	k := keyOf("nas", "off", data)
	r := open(t, s, k, o)
	p := make([]byte, bs)
	if _, err := r.ReadAt(t.Context(), p, 0); err != nil {
		t.Fatal(err)
	}
	o.offline.Store(true)
	if n, err := r.ReadAt(t.Context(), p, 0); err != nil || !bytes.Equal(p[:n], data[:bs]) {
		t.Fatalf("cached block offline: %d, %v", n, err)
	}
	if _, err := r.ReadAt(t.Context(), p, bs); err == nil {
		t.Fatal("uncached block read with the origin offline")
	}
	// A Reader opened while the origin is offline reads once it is back.
	r2 := open(t, s, k, o)
	if _, err := r2.ReadAt(t.Context(), p, 2*bs); err == nil {
		t.Fatal("uncached block read with the origin offline")
	}
	o.offline.Store(false)
	mustReadAll(t, r2, data)
}

func TestPanickingOriginIsAnError(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	data := content(42, 2*bs)
	k := keyOf("nas", "panics", data)
	o := newOrigin(data)
	r, err := s.Open(k, func(context.Context) (origins.File, error) { return faults.PanickingFile{File: fakeFile{o}}, nil })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.ReadAt(t.Context(), make([]byte, 10), 0); err == nil {
		t.Fatal("no error from a panicking origin")
	}
	if present, _ := s.Cached(k); present != 0 {
		t.Fatal("stored something from a panicking origin")
	}
}

func TestFetchConcurrencyIsBoundedPerOrigin(t *testing.T) {
	cfg := testConfig(t)
	cfg.FetchConcurrency = 2
	s, _ := startStore(t, cfg)
	data := content(43, 16*bs)
	o := newOrigin(data)
	o.delay = 2 * time.Millisecond
	other := newOrigin(data)
	other.delay = 2 * time.Millisecond
	var wg sync.WaitGroup
	for i := range 8 {
		k := keyOf("nas", "t", data)
		k.ModTime = k.ModTime.Add(time.Duration(i)) // eight distinct tracks…
		k.RelPath += string(rune('a' + i))
		wg.Go(func() {
			if err := s.Fetch(context.Background(), k, o.open, 0, k.Size); err != nil {
				t.Error(err)
			}
		})
		k2 := k
		k2.Origin = "usb" // …and eight on another origin, with slots of its own
		wg.Go(func() {
			if err := s.Fetch(context.Background(), k2, other.open, 0, k2.Size); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := o.maxIn.Load(); got != 2 {
		t.Fatalf("max concurrent reads of one origin = %d, want 2", got)
	}
	if got := other.maxIn.Load(); got != 2 {
		t.Fatalf("max concurrent reads of the other origin = %d, want 2", got)
	}
}

func TestRemove(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	data, part := content(44, 3*bs), content(45, 3*bs)
	k, kp := keyOf("nas", "rm", data), keyOf("nas", "rmpart", part)
	o := newOrigin(data)
	fetchAll(t, s, k, o)
	if err := s.Fetch(context.Background(), kp, newOrigin(part).open, 0, bs); err != nil {
		t.Fatal(err)
	}
	r := open(t, s, k, o)
	ids := map[string]cas.Entry{}
	for _, e := range s.Entries() {
		ids[e.Keys[0].RelPath] = e
	}
	if !ids["rm"].InUse || ids["rmpart"].InUse {
		t.Fatalf("InUse: blob %v (open), fill %v (closed)", ids["rm"].InUse, ids["rmpart"].InUse)
	}
	if _, err := s.Remove(ids["rm"].ID); !errors.Is(err, cas.ErrInUse) {
		t.Fatalf("Remove of an open blob: %v, want ErrInUse", err)
	}
	r.Close()
	usage := s.Usage()
	for _, name := range []string{"rm", "rmpart"} {
		freed, err := s.Remove(ids[name].ID)
		if err != nil || freed != ids[name].Bytes || freed <= 0 {
			t.Fatalf("Remove %s: freed %d, %v; entry had %d bytes", name, freed, err, ids[name].Bytes)
		}
		usage -= freed
	}
	if s.Usage() != usage || usage != 0 {
		t.Fatalf("usage %d after removing everything", s.Usage())
	}
	if present, _ := s.Cached(k); present != 0 {
		t.Fatal("removed track still cached")
	}
	mustReadAll(t, open(t, s, k, o), data)
}

// errFile fails every read the way a real origin does: its error names the
// origin, the file and the offset already.
type errFile struct{ rel string }

func (f errFile) ReadAt(_ context.Context, _ []byte, off int64) (int, error) {
	return 0, fmt.Errorf("origin nas: read %s at %d: %w", f.rel, off, syscall.EIO)
}
func (errFile) Stat(context.Context) (fs.FileInfo, error) { return nil, errors.New("not used") }
func (errFile) Close() error                              { return nil }

// An origin's read error reaches the reader once, with its context, not
// wrapped again in the same context.
func TestOriginReadErrorIsNotWrappedTwice(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	data := content(46, 2*bs)
	k := keyOf("nas", "broken.flac", data)
	r, err := s.Open(k, func(context.Context) (origins.File, error) { return errFile{k.RelPath}, nil })
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	_, err = r.ReadAt(t.Context(), make([]byte, 10), bs)
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("read: %v, want EIO", err)
	}
	if n := strings.Count(err.Error(), k.RelPath); n != 1 {
		t.Fatalf("error %q names the file %d times, want once", err, n)
	}
	if n := strings.Count(err.Error(), strconv.Itoa(bs)); n != 1 {
		t.Fatalf("error %q names the offset %d times, want once", err, n)
	}
}
