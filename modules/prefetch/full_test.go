package prefetch_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/prefetch"
)

// errFull is what the store's Fetch returns when a block could not be
// stored: the origin was read for nothing.
var errFull = fmt.Errorf("fetch o/x block 3: not stored: %w", cas.ErrNoSpace)

// When the cache is full every prefetched chunk is read from the origin,
// thrown away, and read again by the player: after the first ErrNoSpace a
// session prefetches nothing more, read-ahead or heads.
func TestFullCacheStopsTheSessionsPrefetch(t *testing.T) {
	tests := []struct {
		name  string
		next  int
		first string // the request that meets the full cache
	}{
		{"a head first", 2, "o/al/02.flac[0+1048576]"},
		{"read-ahead first", -1, "o/al/01.flac[1048576+1048576]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lib := library()
			f := newFakeFetcher()
			f.err = errFull
			cfg := prefetch.Config{PlayAfter: MiB, Workers: 1, Window: 4 * MiB, Chunk: MiB, NextTracks: tt.next, FullBackoff: -1}
			h := start(t, cfg, f, tracksOf(lib)...)
			s := h.p.Opened(lib["al/01.flac"])
			defer s.Close()
			s.Read(0, MiB) // playback: heads, then chunks 1-4
			if c := wait(t, f.started, "the first request"); c.String() != tt.first {
				t.Fatalf("first request %v, want %s", c, tt.first)
			}
			s.Read(MiB, MiB)
			s.Read(4*MiB, MiB)
			none(t, f.started, "prefetch after the cache was found full")
			if got := f.Calls(); len(got) != 1 {
				t.Fatalf("fetched %v, want only %s", got, tt.first)
			}
		})
	}
}

// Other sessions pause for FullBackoff too; then they try again.
func TestFullCacheBacksOffGlobally(t *testing.T) {
	const backoff = 300 * time.Millisecond
	a, b := track("a.flac", 1, 1, 10*MiB), track("b.flac", 1, 1, 10*MiB)
	b.Album = "B"
	f := newFakeFetcher()
	f.err = errFull
	h := start(t, prefetch.Config{PlayAfter: -1, Workers: 1, Window: 2 * MiB, Chunk: MiB, FullBackoff: backoff}, f, a, b)
	sa := h.p.Opened(a)
	defer sa.Close()
	sa.Read(0, 1)
	wait(t, f.started, "the request that finds the cache full")
	wait(t, f.ended, "the request that finds the cache full")
	full := time.Now()

	sb := h.p.Opened(b)
	defer sb.Close()
	sb.Read(0, 1)
	sb.Read(MiB, 1)
	select {
	case c := <-f.started:
		if since := time.Since(full); since < backoff {
			t.Fatalf("%v requested %v after the cache was found full", c, since)
		}
	case <-time.After(backoff):
	}
	// After the backoff the chunks skipped meanwhile are asked for again.
	time.Sleep(time.Until(full.Add(backoff)))
	f.err = nil // room again
	sb.Read(MiB, 1)
	var got []string
	for range 3 {
		got = append(got, wait(t, f.started, "a request after the backoff").String())
	}
	want := []string{"o/b.flac[1048576+1048576]", "o/b.flac[2097152+1048576]", "o/b.flac[3145728+1048576]"}
	if !slices.Equal(got, want) {
		t.Fatalf("fetched %q after the backoff, want %q", got, want)
	}
}
