package cache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/internal/supervise"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

// WorkerParams are the Worker's dependencies.
type WorkerParams struct {
	fx.In

	Cache   *Cache
	Store   Store
	Tree    *tree.Tree
	Origins origins.Set
}

// Worker does the cache's background work over the store: it enforces the
// limits when nothing is written and fetches the pinned tracks.
type Worker struct {
	c       *Cache
	store   Store
	tree    *tree.Tree // nil: nothing is pinned
	origins origins.Set

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewWorker builds the Worker; it does no I/O.
func NewWorker(p WorkerParams) *Worker {
	return &Worker{c: p.Cache, store: p.Store, tree: p.Tree, origins: p.Origins}
}

// Start resolves the pins against the current tree and starts the
// background limit check and the pin worker.
func (w *Worker) Start(context.Context) error {
	c := w.c
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	w.wg.Go(func() { supervise.Loop(c.log, "limit check", ctx.Done(), func() { w.checkLoop(ctx) }) })
	if c.pins != nil && w.tree != nil {
		pw := w.newPinWorker()
		// Resolved before Start returns, so that MakeRoom spares the pins
		// from the first write on.
		supervise.Protect(c.log, "pin resolution", func() { pw.refresh() })
		w.wg.Go(func() { supervise.Loop(c.log, "pin worker", ctx.Done(), func() { pw.run(ctx) }) })
	}
	return nil
}

// Stop cancels the background work and waits for it (or for ctx).
func (w *Worker) Stop(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	done := make(chan struct{})
	go func() { w.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop cache workers: %w", ctx.Err())
	}
}

// checkLoop enforces the limits when nothing asks: periodically, because
// other programs may fill the filesystem, and shortly after granted writes,
// because concurrent grants can overshoot max_size by a block each.
func (w *Worker) checkLoop(ctx context.Context) {
	c := w.c
	tick := time.NewTicker(c.opt.CheckInterval)
	defer tick.Stop()
	for {
		w.enforce()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-c.kick:
			t := time.NewTimer(c.opt.TrimDelay) // let the granted writes land
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			select { // kicks during the delay are covered by this check
			case <-c.kick:
			default:
			}
		}
	}
}

func (w *Worker) enforce() {
	c := w.c
	if err := c.makeRoom(w.store, 0, true); err != nil {
		if !c.overLimit.Swap(true) {
			c.log.Warn("cache over its limits", zap.Error(err))
		}
		return
	}
	if c.overLimit.Swap(false) {
		c.log.Info("cache back within its limits")
	}
}
