package origins

// The queue between run and work: the operations run asks for, and the
// results work sends back.

import (
	"context"
	"sync"
	"time"
)

// Operations for work, and its results for run.
type opKind int

const (
	opSetup   opKind = iota // watch the whole tree
	opCreated               // rel appeared: if a directory, watch its tree
	opGone                  // rel was removed or renamed away: drop watches under it
	opChmod                 // rel's attributes changed: report if readability did
	opDrop                  // drop every watch (root gone)
	opProbe                 // root was gone: check it, and watch it again if back
	opVerify                // check the root is still the directory watched
)

type op struct {
	kind opKind
	rel  string
}

type resultKind int

const (
	resReport   resultKind = iota // rel changed
	resWatching                   // the whole tree is watched (again)
	resLimit                      // the inotify limit was hit; watches dropped
	resDown                       // the root is gone or unreadable
)

type result struct {
	kind    resultKind
	back    bool // resWatching after a probe found the root back
	remount bool // resWatching after the root was found replaced
	rel     string
	dirs    int
	took    time.Duration
	err     error
}

// opQueue is an unbounded FIFO: run pushes without blocking, work takes.
type opQueue struct {
	mu    sync.Mutex // guards ops
	ops   []op
	ready chan struct{} // capacity 1: something was pushed
}

func (q *opQueue) push(o op) {
	q.mu.Lock()
	q.ops = append(q.ops, o)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take waits for operations and returns them all, or nil when ctx is done.
func (q *opQueue) take(ctx context.Context) []op {
	for {
		q.mu.Lock()
		ops := q.ops
		q.ops = nil
		q.mu.Unlock()
		if len(ops) > 0 {
			return ops
		}
		select {
		case <-ctx.Done():
			return nil
		case <-q.ready:
		}
	}
}
