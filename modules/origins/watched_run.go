package origins

// The run side of watching: events and work's results become debounced
// Changes. Nothing here does I/O or blocks on anything but its select.

import (
	"context"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/zap"
)

// runState is run's state; only run's goroutine touches it.
type runState struct {
	o      *watched
	s      *debouncer
	rescan *time.Ticker // periodic rescans: rescan_interval, or the limit fallback
	poll   *time.Ticker // root checks while watching: for a remount, or its return when gone
	down   bool         // root gone: events are stale, watches dropped
	limit  bool         // watches given up for the inotify limit
	setup  bool         // the first setup's result is still to come
}

// run turns events and results into debounced Changes.
func (o *watched) run(ctx context.Context) {
	s := &debouncer{origin: o.name, pending: map[string]struct{}{}}
	s.timer = time.NewTimer(time.Hour)
	s.timer.Stop()
	defer s.timer.Stop()

	rs := o.newRunState(s)
	defer rs.stopTickers()

	for {
		// Select evaluates the value to send even when out is nil.
		var out chan<- Change
		var next Change
		if s.ready != nil {
			out, next = o.w.changes, *s.ready
		}
		var rescanC, pollC <-chan time.Time
		if rs.rescan != nil {
			rescanC = rs.rescan.C
		}
		if rs.poll != nil {
			pollC = rs.poll.C
		}
		select {
		case <-ctx.Done():
			return
		case ev := <-o.events:
			if rs.down || rs.limit {
				continue
			}
			o.event(s, ev, func() { rs.goDown(true) })
		case r := <-o.results:
			rs.handle(r)
		case <-o.overrun:
			s.rescanNow()
		case <-rescanC:
			s.rescanNow()
		case <-pollC:
			rs.pollRoot()
		case <-s.timer.C:
			s.flush()
		case out <- next:
			o.log.Debug("origin changed", zap.Strings("paths", next.Paths), zap.Bool("rescan", next.Rescan))
			s.ready = nil
		}
	}
}

// newRunState starts the tickers the origin's configuration asks for.
func (o *watched) newRunState(s *debouncer) *runState {
	rs := &runState{o: o, s: s, setup: o.watch && o.w.backend != nil}
	if o.every > 0 {
		rs.startRescans(o.every)
	}
	if rs.setup {
		rs.poll = time.NewTicker(o.w.pollEvery)
	}
	if o.watch && o.w.backend == nil {
		rs.limit = true // no inotify at all: the same fallback as the limit
		if o.every == 0 {
			rs.startRescans(o.w.limitEvery)
		}
	}
	return rs
}

func (rs *runState) startRescans(every time.Duration) {
	if rs.rescan != nil {
		rs.rescan.Stop()
	}
	rs.rescan = time.NewTicker(every)
}

func (rs *runState) stopTickers() {
	if rs.rescan != nil {
		rs.rescan.Stop()
	}
	if rs.poll != nil {
		rs.poll.Stop()
	}
}

// goDown stops trusting events until the root is back. The consumer
// gets a Rescan and decides, through the health check, whether the
// origin is offline; at start it is scanning anyway.
func (rs *runState) goDown(report bool) {
	if rs.down || rs.limit {
		return
	}
	rs.down = true
	rs.o.log.Warn("origin root gone: watches dropped, checking for its return", zap.String("path", rs.o.root))
	rs.o.ops.push(op{kind: opDrop})
	if report {
		rs.s.rescanNow()
	}
}

// handle takes one result from work.
func (rs *runState) handle(r result) {
	switch r.kind {
	case resReport:
		if !rs.down {
			rs.s.add(r.rel)
		}
	case resWatching:
		rs.watching(r)
	case resLimit:
		rs.limitReached(r)
	case resDown:
		rs.goDown(!rs.setup)
		rs.setup = false
	}
}

// watching handles resWatching: the whole tree is watched (again).
func (rs *runState) watching(r result) {
	fields := []zap.Field{zap.Int("dirs", r.dirs), zap.Duration("took", r.took)}
	if r.err != nil {
		fields = append(fields, zap.Error(r.err))
	}
	switch {
	case rs.down && !r.back:
		// The root went while it was being watched: the
		// drop queued behind this undoes it; keep polling.
	case rs.down:
		rs.o.log.Info("origin root back: watching again", fields...)
		rs.down = false
		rs.s.rescanNow()
	case r.remount:
		rs.o.log.Warn("origin root replaced (remounted?): watching it again", fields...)
		rs.s.rescanNow()
	default:
		rs.o.log.Info("watching origin", fields...)
	}
	rs.setup = false
}

// limitReached handles resLimit: watches are given up for periodic rescans.
func (rs *runState) limitReached(r result) {
	rs.o.log.Warn("inotify watch limit reached: watches dropped, falling back to periodic rescans; raise the sysctl fs.inotify.max_user_watches",
		zap.Int("dirs_dropped", r.dirs), zap.Error(r.err))
	rs.limit = true
	rs.down = false
	if rs.poll != nil {
		rs.poll.Stop()
		rs.poll = nil
	}
	if rs.o.every == 0 {
		rs.startRescans(rs.o.w.limitEvery)
	}
	if !rs.setup { // at start the consumer is scanning anyway
		rs.s.rescanNow()
	}
	rs.setup = false
}

// pollRoot asks work to check the root: for its return when it is gone,
// else for a remount, unless a check is already queued.
func (rs *runState) pollRoot() {
	switch {
	case rs.down:
		rs.o.ops.push(op{kind: opProbe})
	case rs.o.verifying.CompareAndSwap(false, true):
		rs.o.ops.push(op{kind: opVerify})
	}
}

// event handles one backend event in run: paths are reported at once, and
// work learns what it must do about watches, in event order.
func (o *watched) event(s *debouncer, ev event, goDown func()) {
	if ev.rel == "." {
		switch {
		case ev.op.Has(fsnotify.Remove) || ev.op.Has(fsnotify.Rename):
			goDown()
		case ev.op.Has(fsnotify.Chmod):
			o.ops.push(op{kind: opChmod, rel: "."})
		}
		return
	}
	if ev.op.Has(fsnotify.Remove) || ev.op.Has(fsnotify.Rename) {
		s.add(ev.rel)
		o.ops.push(op{kind: opGone, rel: ev.rel})
	}
	if ev.op.Has(fsnotify.Create) {
		// Reported now for a file; a directory is reported again once its
		// watches are in, so a walk after that misses nothing.
		s.add(ev.rel)
		o.ops.push(op{kind: opCreated, rel: ev.rel})
	}
	if ev.op.Has(fsnotify.Write) {
		s.add(ev.rel)
	}
	if ev.op == fsnotify.Chmod {
		o.ops.push(op{kind: opChmod, rel: ev.rel})
	}
}
