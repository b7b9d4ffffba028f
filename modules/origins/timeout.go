package origins

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// maxStuck caps the calls per origin that timed out and are still blocked in
// the kernel. Each pins an OS thread, so past the cap new calls fail at once
// instead of piling threads up against a hung mount.
const maxStuck = 64

// bounded runs blocking origin syscalls with a deadline. Go cannot interrupt
// a goroutine blocked in a syscall (a read from a hung NFS or SMB mount can
// block for minutes), so each call runs in a goroutine of its own and the
// caller stops waiting at the deadline.
type bounded struct {
	timeout time.Duration
	stuck   atomic.Int64 // timed-out calls whose syscall has not returned yet
}

// call runs fn in its own goroutine and waits for it at most b.timeout or
// until ctx is done, whichever is first; it then returns an error wrapping
// ErrTimeout (or ctx's error). The abandoned goroutine is not leaked for
// good: it ends on its own when the kernel returns, and hands a successful
// result to discard (to close what it opened) since nobody else will.
// One goroutine per call, never more.
func call[T any](ctx context.Context, b *bounded, fn func() (T, error), discard func(T)) (T, error) {
	var zero T
	if n := b.stuck.Load(); n >= maxStuck {
		return zero, fmt.Errorf("%d earlier calls still blocked: %w", n, ErrTimeout)
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result)
	abandoned := make(chan struct{})
	go func() {
		v, err := fn()
		select {
		case done <- result{v, err}:
		case <-abandoned:
			b.stuck.Add(-1)
			if err == nil && discard != nil {
				discard(v)
			}
		}
	}()

	timer := time.NewTimer(b.timeout)
	defer timer.Stop()
	var err error
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		err = fmt.Errorf("no answer within %s: %w", b.timeout, ErrTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	// The result may have arrived together with the deadline: prefer it.
	select {
	case r := <-done:
		return r.v, r.err
	default:
	}
	b.stuck.Add(1) // before close, so the goroutine's decrement comes after
	close(abandoned)
	return zero, err
}

// bufferPool holds read buffers. A buffer goes back to the pool only when
// its read finished in time: after a timeout the blocked syscall still writes
// into it.
type bufferPool struct{ p sync.Pool }

// maxPooled keeps rare huge reads from pinning memory in the pool.
const maxPooled = 1 << 20

func (bp *bufferPool) get(n int) *[]byte {
	b, _ := bp.p.Get().(*[]byte)
	if b == nil || cap(*b) < n {
		nb := make([]byte, n)
		return &nb
	}
	*b = (*b)[:n]
	return b
}

func (bp *bufferPool) put(b *[]byte) {
	if cap(*b) <= maxPooled {
		bp.p.Put(b)
	}
}
