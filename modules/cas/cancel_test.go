package cas_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// A read whose context ends while it waits for the origin returns at once
// with the context's cause, and takes the origin call down with it when
// no other read waits for the same block; while another does, the fetch
// goes on and serves it.
func TestCancelledReadReleasesTheFetch(t *testing.T) {
	s, _ := startStore(t, testConfig(t))
	data := content(47, 3*bs)
	k := keyOf("nas", "cancel.flac", data)
	o := newOrigin(data)
	hang := make(chan struct{})
	o.hang.Store(&hang)
	waitInflight := func(want int64) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); o.inflight.Load() != want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d origin reads in flight, want %d", o.inflight.Load(), want)
			}
		}
	}
	read := func(ctx context.Context) chan error {
		done := make(chan error, 1)
		r := open(t, s, k, o)
		go func() {
			buf := make([]byte, 100)
			_, err := r.ReadAt(ctx, buf, 0)
			if err == nil && !bytes.Equal(buf, data[:100]) {
				err = errors.New("bytes differ from the origin's")
			}
			done <- err
		}()
		return done
	}

	// Alone: cancelling the read ends the origin call.
	why := errors.New("the player was killed")
	ctx, cancel := context.WithCancelCause(t.Context())
	done := read(ctx)
	waitInflight(1)
	cancel(why)
	if err := <-done; !errors.Is(err, why) {
		t.Fatalf("cancelled read: %v, want its context's cause", err)
	}
	waitInflight(0)

	// Shared: one reader gives up, the other still gets its bytes.
	ctx, cancel = context.WithCancelCause(t.Context())
	first := read(ctx)
	waitInflight(1)
	second := read(t.Context())
	time.Sleep(20 * time.Millisecond) // the second joins the running fetch
	cancel(why)
	if err := <-first; !errors.Is(err, why) {
		t.Fatalf("cancelled read: %v, want its context's cause", err)
	}
	waitInflight(1)
	close(hang)
	if err := <-second; err != nil {
		t.Fatalf("the read still waiting: %v", err)
	}
	if n := o.readsAt(0); n != 2 {
		t.Fatalf("%d origin reads of block 0, want 2 (the cancelled one, then the shared one)", n)
	}
}
