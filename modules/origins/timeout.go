package origins

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/musicfs/musicfs/internal/bounded"
)

// maxStuck caps the calls per origin that timed out and are still blocked in
// the kernel. Each pins an OS thread, so past the cap new calls fail at once
// instead of piling threads up against a hung mount.
const maxStuck = 64

// calls runs one origin's blocking syscalls with a deadline (see package
// bounded: a read from a hung NFS or SMB mount can block for minutes).
type calls struct {
	timeout time.Duration
	stuck   bounded.Stuck // timed-out calls whose syscall has not returned yet
}

// WithTimeout bounds ctx by d for origin calls: a call still waiting at
// the deadline fails with an error wrapping ErrTimeout. The deadline of a
// call is set where the call starts (a FUSE request, a fetch, a stat).
func WithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, fmt.Errorf("no answer within %s: %w", d, ErrTimeout))
}

// call runs fn until ctx is done, or at most c's timeout (a bound for
// callers without a deadline of their own), returning an error wrapping
// ErrTimeout, or ctx's cause, then; a successful late result goes to
// discard. Past maxStuck calls still blocked it fails at once.
func call[T any](ctx context.Context, c *calls, fn func() (T, error), discard func(T)) (T, error) {
	if n := c.stuck.Load(); n >= maxStuck {
		var zero T
		return zero, fmt.Errorf("%d earlier calls still blocked: %w", n, ErrTimeout)
	}
	v, err := bounded.Call(ctx, c.timeout, &c.stuck, fn, discard)
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = context.Cause(ctx)
	}
	return v, err
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
