package cas_test

import (
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// Playback fetches the blocks after it before it asks for them; reads that
// are not playback fetch nothing ahead.
func TestPlaybackReadsAhead(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	const run = 256 << 10 // one playback run: 64 blocks
	data := content(70, 2*run)
	k := keyOf("nas", "ahead", data)
	o := newOrigin(data)
	r := open(t, s, k, o)
	readAt(t, r, 0, data[:run])
	mounttest.Eventually(t, 5*time.Second, "blocks after the read fetched", func() bool {
		present, _ := s.Cached(k)
		return present == run+4*bs
	})
	if o.readsAt(run+4*bs) != 0 {
		t.Fatalf("block %d fetched: more than 4 blocks ahead", (run+4*bs)/bs)
	}

	scan := newOrigin(data)
	ks := keyOf("nas", "scanned", data)
	rs := open(t, s, ks, scan)
	readAt(t, rs, 8*bs, data[8*bs:9*bs])
	time.Sleep(50 * time.Millisecond) // what a fetch ahead would have taken
	if n := scan.calls.Load(); n != 1 {
		t.Fatalf("a single small read made %d origin reads", n)
	}
}

// Closing a Reader ends its fetches ahead, even with the origin hung.
func TestCloseEndsReadAhead(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	const run = 256 << 10
	data := content(71, 2*run)
	k := keyOf("nas", "hung", data)
	o := newOrigin(data)
	r := open(t, s, k, o)
	readAt(t, r, 0, data[:run])
	mounttest.Eventually(t, 5*time.Second, "first fetch ahead", func() bool { return o.readsAt(run) > 0 })

	hang := make(chan struct{})
	defer close(hang)
	o.hang.Store(&hang)
	readAt(t, r, run, data[run:run+bs]) // starts the next one ahead, which hangs
	mounttest.Eventually(t, 5*time.Second, "a hung fetch ahead", func() bool { return o.inflight.Load() > 0 })
	closed := make(chan struct{})
	go func() { r.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Close waits for a hung fetch ahead")
	}
	mounttest.Eventually(t, 2*time.Second, "hung fetch released", func() bool { return o.inflight.Load() == 0 })
}
