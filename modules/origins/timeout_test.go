package origins

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestCallReturnsResult(t *testing.T) {
	b := &calls{timeout: time.Second}
	v, err := call(context.Background(), b, func() (int, error) { return 42, nil }, nil)
	if v != 42 || err != nil {
		t.Fatalf("call = %d, %v; want 42, nil", v, err)
	}
	want := errors.New("boom")
	if _, err := call(context.Background(), b, func() (int, error) { return 0, want }, nil); err != want {
		t.Fatalf("call error = %v, want %v", err, want)
	}
}

func TestCallTimesOutAndDiscardsLateResult(t *testing.T) {
	b := &calls{timeout: 50 * time.Millisecond}
	release := make(chan struct{})
	discarded := make(chan int, 1)
	start := time.Now()
	_, err := call(context.Background(), b, func() (int, error) {
		<-release // a syscall the kernel does not answer
		return 7, nil
	}, func(v int) { discarded <- v })
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("call returned after %v, want about 50ms", d)
	}
	if n := b.stuck.Load(); n != 1 {
		t.Fatalf("stuck = %d, want 1", n)
	}
	close(release)
	select {
	case v := <-discarded:
		if v != 7 {
			t.Fatalf("discarded %d, want 7", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("late result was never discarded")
	}
	waitFor(t, func() bool { return b.stuck.Load() == 0 })
}

func TestCallHonoursContext(t *testing.T) {
	b := &calls{timeout: time.Hour}
	release := make(chan struct{})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	_, err := call(ctx, b, func() (int, error) { <-release; return 0, nil }, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestCallRefusesWhenTooManyAreStuck(t *testing.T) {
	b := &calls{timeout: time.Millisecond}
	release := make(chan struct{})
	for range maxStuck {
		if _, err := call(context.Background(), b, func() (int, error) { <-release; return 0, nil }, nil); !errors.Is(err, ErrTimeout) {
			t.Fatalf("err = %v, want ErrTimeout", err)
		}
	}
	ran := false
	_, err := call(context.Background(), b, func() (int, error) { ran = true; return 0, nil }, nil)
	if !errors.Is(err, ErrTimeout) || ran {
		t.Fatalf("with %d calls stuck: err = %v, ran = %v; want ErrTimeout without running", maxStuck, err, ran)
	}
	close(release)
	waitFor(t, func() bool { return b.stuck.Load() == 0 })
	if _, err := call(context.Background(), b, func() (int, error) { return 1, nil }, nil); err != nil {
		t.Fatalf("after the stuck calls returned: %v", err)
	}
}

// waitFor polls cond until it holds or 5 s have passed.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
