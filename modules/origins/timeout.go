package origins

import (
	"context"
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

// call runs fn with c's timeout, or until ctx is done, returning an error
// wrapping ErrTimeout (or ctx's error) then; a successful late result goes
// to discard. Past maxStuck calls still blocked it fails at once.
func call[T any](ctx context.Context, c *calls, fn func() (T, error), discard func(T)) (T, error) {
	if n := c.stuck.Load(); n >= maxStuck {
		var zero T
		return zero, fmt.Errorf("%d earlier calls still blocked: %w", n, ErrTimeout)
	}
	return bounded.Call(ctx, c.timeout, &c.stuck, fn, discard)
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
