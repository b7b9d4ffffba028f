package prefetch_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/musicfs/musicfs/modules/prefetch"
)

// A file the kernel serves (passthrough) sends no reads: kept open for
// PassthroughPlayAfter, it counts as playback and the next tracks' heads
// are fetched; a scanner's quick open and close fetches nothing.
func TestPassedThroughPlaysAfterADelay(t *testing.T) {
	const delay = 100 * time.Millisecond
	lib := library()
	f := newFakeFetcher()
	h := start(t, prefetch.Config{Workers: 1, NextTracks: 1, PassthroughPlayAfter: delay}, f, tracksOf(lib)...)

	scanned := h.p.Opened(lib["al/02.flac"])
	scanned.PassedThrough()
	scanned.Close()

	began := time.Now()
	s := h.p.Opened(lib["al/01.flac"])
	defer s.Close()
	s.PassedThrough()
	s.PassedThrough() // once is enough
	c := wait(t, f.started, "the next track's head")
	if d := time.Since(began); d < delay {
		t.Errorf("head fetched after %v, before PassthroughPlayAfter", d)
	}
	if c.Key.RelPath != "al/02.flac" {
		t.Fatalf("fetched %v, want al/02's head (al/03's would be the scanned file's next)", c)
	}
	none(t, f.started, "another fetch")
	if d := 2 * delay; time.Since(began) < d {
		none(t, f.started, "the closed file's fetch")
	}
}

func TestStopStopsPassthroughTimers(t *testing.T) {
	lib := library()
	f := newFakeFetcher()
	h := start(t, prefetch.Config{Workers: 1, PassthroughPlayAfter: time.Hour}, f, tracksOf(lib)...)
	s := h.p.Opened(lib["al/01.flac"])
	s.PassedThrough()
	if n := h.p.Armed(); n != 1 {
		t.Fatalf("%d passthrough timers armed, want 1", n)
	}
	if err := h.p.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := h.p.Armed(); n != 0 {
		t.Fatalf("%d passthrough timers armed after Stop", n)
	}
	other := h.p.Opened(lib["m/1-08.flac"])
	other.PassedThrough() // after Stop: nothing to start
	if n := h.p.Armed(); n != 0 {
		t.Fatalf("a passthrough timer armed after Stop")
	}
	s.Close()
	other.Close()
	goleak.VerifyNone(t, goleak.IgnoreTopFunction("github.com/musicfs/musicfs/modules/tree.(*Tree).run"))
}

func TestNilSessionPassedThrough(t *testing.T) {
	var s *prefetch.Session
	s.PassedThrough()
}
