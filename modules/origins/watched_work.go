package origins

// The work side of watching: everything that touches the filesystem or the
// backend (adding and dropping watches, stats, readability checks), one
// operation at a time.

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// workState is work's state; only work's goroutine touches it.
type workState struct {
	o          *watched
	watching   bool            // the tree is watched: not down, not over the limit
	gaveUp     bool            // the inotify limit was hit: never watch again
	unreadable map[string]bool // paths a chmod made unreadable
	id         rootID          // the root watched, taken just before its watches
}

// work does the filesystem side of watching, one operation at a time, in
// the order of the events that caused them.
func (o *watched) work(ctx context.Context) {
	ws := &workState{o: o, unreadable: map[string]bool{}}
	for {
		ops := o.ops.take(ctx)
		if ops == nil {
			return
		}
		for _, op := range ops {
			if !ws.do(ctx, op) {
				return
			}
		}
	}
}

// do carries out one operation. It returns false when work must stop:
// ctx is done.
func (ws *workState) do(ctx context.Context, op op) bool {
	o := ws.o
	switch op.kind {
	case opSetup:
		return ws.setup(ctx, false, false)
	case opProbe:
		if !ws.watching && !ws.gaveUp && o.check(ctx) {
			return ws.setup(ctx, true, false)
		}
	case opVerify:
		return ws.verify(ctx)
	case opDrop:
		ws.watching = false
		o.dropUnder(".")
	case opGone:
		o.dropUnder(op.rel)
	case opCreated:
		return ws.created(ctx, op.rel)
	case opChmod:
		return ws.chmod(ctx, op.rel)
	}
	return true
}

// send hands r to run; false if ctx ended first.
func (ws *workState) send(ctx context.Context, r result) bool {
	select {
	case ws.o.results <- r:
		return true
	case <-ctx.Done():
		return false
	}
}

// watchTree adds watches under rel. On the inotify limit it drops them
// all and tells run; limit is then true.
func (ws *workState) watchTree(ctx context.Context, rel string) (n int, limit bool, err error) {
	n, err = ws.o.addTree(ctx, rel)
	if !isWatchLimit(err) {
		return n, false, err
	}
	dropped := ws.o.dropUnder(".")
	ws.watching, ws.gaveUp = false, true
	if !ws.send(ctx, result{kind: resLimit, dirs: dropped, err: err}) {
		return n, true, ctx.Err()
	}
	return n, true, nil
}

// setup watches the whole tree and tells run how that went.
func (ws *workState) setup(ctx context.Context, back, remount bool) bool {
	start := time.Now()
	// Taken first, so that a remount during the walk shows as a
	// difference at the next check. On an error id is zero: the next
	// check then watches again, at worst once too often.
	ws.id, _ = ws.o.statRoot(ctx)
	n, limit, err := ws.watchTree(ctx, ".")
	switch {
	case limit:
		return err == nil
	case ctx.Err() != nil:
		return false
	case errors.Is(err, ErrOffline):
		ws.o.dropUnder(".")
		return ws.send(ctx, result{kind: resDown, err: err})
	}
	ws.watching = true
	return ws.send(ctx, result{kind: resWatching, back: back, remount: remount, dirs: n, took: time.Since(start), err: err})
}

// verify checks that the root is still the directory watched.
func (ws *workState) verify(ctx context.Context) bool {
	o := ws.o
	o.verifying.Store(false)
	if !ws.watching {
		return true
	}
	// An unmount drops every watch under the mount without an
	// event fsnotify passes on (IN_UNMOUNT, IN_IGNORED): the root
	// is then another directory, or none, and nothing would ever
	// be reported again.
	now, err := o.statRoot(ctx)
	switch {
	case ctx.Err() != nil:
		return false
	case errors.Is(err, ErrTimeout):
		// A hung mount says nothing about a remount; its
		// reads time out for the consumer already.
		o.log.Debug("origin root check timed out", zap.Error(err))
	case err != nil: // vanished, or a stale NFS handle
		ws.watching = false
		o.dropUnder(".")
		return ws.send(ctx, result{kind: resDown, err: err})
	case now != ws.id:
		// Dropped first: fsnotify still knows the old watches by
		// path until it reads their IN_IGNORED, and would mix
		// them up with the new ones.
		ws.watching = false
		o.dropUnder(".")
		return ws.setup(ctx, false, true)
	}
	return true
}

// created watches the tree of rel if it is a directory, then reports it.
func (ws *workState) created(ctx context.Context, rel string) bool {
	if !ws.watching {
		return true
	}
	if fi, err := ws.o.lstat(ctx, rel); err != nil || !fi.IsDir() {
		return true
	}
	_, limit, err := ws.watchTree(ctx, rel)
	switch {
	case limit:
		return err == nil
	case ctx.Err() != nil:
		return false
	}
	return ws.send(ctx, result{kind: resReport, rel: rel})
}

// chmod reports rel if its readability changed; the root turning
// unreadable takes the origin down.
func (ws *workState) chmod(ctx context.Context, rel string) bool {
	o := ws.o
	if !ws.watching {
		return true
	}
	fi, err := o.lstat(ctx, rel)
	if err != nil {
		return true
	}
	readable := o.readable(ctx, rel, fi.IsDir())
	if rel == "." {
		if !readable {
			ws.watching = false
			o.dropUnder(".")
			// Work goes on even if ctx ended first: take then stops it.
			ws.send(ctx, result{kind: resDown})
		}
		return true
	}
	if readable == !ws.unreadable[rel] {
		return true // readability unchanged: a chmod that does not matter
	}
	if readable {
		delete(ws.unreadable, rel)
		if fi.IsDir() {
			// Its subdirectories could not be watched while
			// it was unreadable.
			if _, limit, _ := ws.watchTree(ctx, rel); limit {
				// Work goes on even if ctx ended first: take then stops it.
				return true
			}
		}
	} else {
		ws.unreadable[rel] = true
	}
	return ws.send(ctx, result{kind: resReport, rel: rel})
}
