// Package bounded runs calls that can block in the kernel for good, such as
// a read from a hung NFS or SMB mount or a statfs of a dead FUSE mount, with
// a deadline. Go cannot interrupt a goroutine blocked in a syscall, so each
// call runs in a goroutine of its own and the caller stops waiting at the
// deadline; the abandoned goroutine ends on its own when the kernel returns.
package bounded

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"
)

// ErrTimeout is wrapped by the error of a call that got no answer within
// its timeout.
var ErrTimeout = errors.New("origin did not answer in time")

// Stuck counts calls abandoned at their deadline whose fn has not returned
// yet: each pins an OS thread.
type Stuck struct{ n atomic.Int64 }

// Load returns the number of stuck calls.
func (s *Stuck) Load() int64 { return s.n.Load() }

// PanicError is the error of a call whose fn panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Call runs fn in a goroutine of its own and waits for it at most timeout
// (0: no limit of its own) or until ctx is done. It then returns an error
// wrapping ErrTimeout, or ctx's error, and the call goes on without a
// waiter: it is counted in stuck (if not nil) until fn returns, and a
// successful late result is handed to discard (if not nil), to close what
// fn opened since nobody else will. A panic in fn is returned as a
// *PanicError. One goroutine per call, never more.
func Call[T any](ctx context.Context, timeout time.Duration, stuck *Stuck, fn func() (T, error), discard func(T)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result)
	abandoned := make(chan struct{})
	go func() {
		var r result
		func() {
			defer func() {
				if v := recover(); v != nil {
					r.err = &PanicError{Value: v, Stack: debug.Stack()}
				}
			}()
			r.v, r.err = fn()
		}()
		select {
		case done <- r:
		case <-abandoned:
			if stuck != nil {
				stuck.n.Add(-1)
			}
			if r.err == nil && discard != nil {
				discard(r.v)
			}
		}
	}()

	var expired <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		expired = timer.C
	}
	var err error
	select {
	case r := <-done:
		return r.v, r.err
	case <-expired:
		err = fmt.Errorf("no answer within %s: %w", timeout, ErrTimeout)
	case <-ctx.Done():
		err = ctx.Err()
	}
	// The result may have arrived together with the deadline: prefer it.
	select {
	case r := <-done:
		return r.v, r.err
	default:
	}
	if stuck != nil {
		stuck.n.Add(1) // before close, so the goroutine's decrement comes after
	}
	close(abandoned)
	var zero T
	return zero, err
}
