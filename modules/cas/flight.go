package cas

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/musicfs/musicfs/modules/origins"
)

// errNoWaiters is the cause of a flight cancelled because every reader
// waiting for it has gone.
var errNoWaiters = errors.New("no reader waits for the fetch any more")

// flightGroup runs one fetch per key, shared by every waiter for it. A
// flight's context ends at its read timeout (set when it starts), when the
// store stops, or when its last waiter has gone: an interrupted FUSE read
// takes its origin call down with it, unless another reader still waits
// for the same block.
type flightGroup struct {
	mu sync.Mutex         // guards m and each flight's waiters
	m  map[string]*flight // running flights by key
}

type flight struct {
	done    chan struct{} // closed when res and err are set
	res     fetched
	err     error
	waiters int
	cancel  context.CancelCauseFunc
}

// do waits for the flight of key, starting it with fn if none runs, until
// it ends or ctx does (then with ctx's cause). parent bounds the flight.
func (g *flightGroup) do(ctx, parent context.Context, timeout time.Duration, key string,
	fn func(context.Context) (fetched, error)) (fetched, error) {
	g.mu.Lock()
	f := g.m[key]
	if f == nil {
		if g.m == nil {
			g.m = map[string]*flight{}
		}
		fctx, cancel := context.WithCancelCause(parent)
		tctx, stop := origins.WithTimeout(fctx, timeout)
		f = &flight{done: make(chan struct{}), cancel: cancel}
		g.m[key] = f
		go func() {
			defer cancel(nil)
			defer stop()
			f.res, f.err = fn(tctx)
			g.mu.Lock()
			if g.m[key] == f {
				delete(g.m, key)
			}
			g.mu.Unlock()
			close(f.done)
		}()
	}
	f.waiters++
	g.mu.Unlock()

	select {
	case <-f.done:
		return f.res, f.err
	case <-ctx.Done():
	}
	g.mu.Lock()
	if f.waiters--; f.waiters == 0 {
		// Nobody wants it: stop it, and let a later reader start afresh
		// rather than join a cancelled flight.
		f.cancel(errNoWaiters)
		if g.m[key] == f {
			delete(g.m, key)
		}
	}
	g.mu.Unlock()
	return fetched{}, context.Cause(ctx)
}

// running reports whether a flight of key is running.
func (g *flightGroup) running(key string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m[key] != nil
}
