package tree

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/musicfs/musicfs/modules/index"
)

type updateSource struct{ updated chan struct{} }

func (s *updateSource) Tracks() []*index.Track   { return library(10) }
func (s *updateSource) Updated() <-chan struct{} { return s.updated }

func (s *updateSource) update() {
	select {
	case s.updated <- struct{}{}:
	default:
	}
}

// TestReleasesMemoryWhenSettled: the memory rebuilds free goes back to the
// OS once per burst of rebuilds, when it ends, and not again until the next.
func TestReleasesMemoryWhenSettled(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const interval = 100 * time.Millisecond
	src := &updateSource{updated: make(chan struct{}, 1)}
	tr, err := New(Params{Source: src, Logger: zaptest.NewLogger(t), Registerer: prometheus.NewRegistry(),
		Options: Options{MinInterval: interval}})
	if err != nil {
		t.Fatal(err)
	}
	var released atomic.Int32
	tr.freeMemory = func() { released.Add(1) }
	if err := tr.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := tr.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	}()
	waitReleased := func(want int32, what string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); released.Load() < want; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no release %s", what)
			}
		}
		time.Sleep(3 * interval)
		if got := released.Load(); got != want {
			t.Fatalf("%d releases %s, want %d", got, what, want)
		}
	}
	waitReleased(1, "after the first build")

	// Updates closer together than the interval keep rebuilding: no
	// release until they stop.
	for range 30 {
		src.update()
		time.Sleep(interval / 10)
	}
	if got := released.Load(); got != 1 {
		t.Fatalf("%d releases during a burst of rebuilds, want 1 (the first build's)", got)
	}
	waitReleased(2, "after the burst")
}
