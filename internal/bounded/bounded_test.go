package bounded_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/musicfs/musicfs/internal/bounded"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestCallReturnsTheResult(t *testing.T) {
	v, err := bounded.Call(context.Background(), time.Second, nil, func() (int, error) { return 7, nil }, nil)
	if v != 7 || err != nil {
		t.Fatalf("Call = %v, %v", v, err)
	}
	want := errors.New("fn failed")
	if _, err := bounded.Call(context.Background(), 0, nil, func() (int, error) { return 0, want }, nil); err != want {
		t.Fatalf("Call = %v, want fn's own error", err)
	}
}

// A call that blocks past the timeout is abandoned: the caller gets
// ErrTimeout at once, the call is counted stuck until it returns, and its
// late result goes to discard.
func TestCallAbandonsAtTheTimeout(t *testing.T) {
	var stuck bounded.Stuck
	release := make(chan struct{})
	discarded := make(chan int, 1)
	start := time.Now()
	_, err := bounded.Call(context.Background(), 50*time.Millisecond, &stuck,
		func() (int, error) { <-release; return 42, nil },
		func(v int) { discarded <- v })
	if !errors.Is(err, bounded.ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("returned after %v", d)
	}
	if n := stuck.Load(); n != 1 {
		t.Fatalf("stuck = %d while the call blocks, want 1", n)
	}
	close(release)
	if v := <-discarded; v != 42 {
		t.Fatalf("discarded %d, want the late result", v)
	}
	for stuck.Load() != 0 {
		time.Sleep(time.Millisecond)
	}
}

func TestCallStopsWaitingWhenCtxEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	release := make(chan struct{})
	defer close(release)
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := bounded.Call(ctx, 0, nil, func() (int, error) { <-release; return 0, nil }, nil)
	if !errors.Is(err, context.Canceled) || errors.Is(err, bounded.ErrTimeout) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// A panic in fn (a buggy origin wrapper) is an error, not a crash.
func TestCallContainsPanics(t *testing.T) {
	_, err := bounded.Call(context.Background(), time.Second, nil, func() (int, error) { panic("boom") }, nil)
	var pe *bounded.PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" || len(pe.Stack) == 0 {
		t.Fatalf("err = %v, want a PanicError with value and stack", err)
	}
}
