package app

import (
	"context"
	"sync"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/notify"
	"github.com/musicfs/musicfs/modules/origins"
)

// follow feeds the origins' watcher to the index: changed paths are
// re-examined, lost events and periodic rescans re-walk the origin.
type follow struct {
	log     *zap.Logger
	watcher *origins.Watcher
	index   *index.Index
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

func newFollow(lc fx.Lifecycle, log *zap.Logger, w *origins.Watcher, ix *index.Index) *follow {
	f := &follow{log: log, watcher: w, index: ix}
	lc.Append(fx.StartStopHook(f.start, f.stop))
	return f
}

func (f *follow) start() {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Go(func() {
		for {
			select {
			case c, ok := <-f.watcher.Changes():
				if !ok {
					return // the watcher stopped
				}
				if c.Rescan {
					f.index.RescanOrigin(c.Origin)
				} else {
					f.index.Refresh(c.Origin, c.Paths)
				}
			case <-ctx.Done():
				return
			}
		}
	})
}

func (f *follow) stop() {
	f.cancel()
	f.wg.Wait()
}

// scanAfterReady starts the index's rescans once the daemon has reported
// READY (it takes the notifier, so its hook comes after the notifier's): a
// restart serves the persisted index first, and the rescan that reconciles
// it with the origins runs while it serves.
func scanAfterReady(lc fx.Lifecycle, ix *index.Index, _ *notify.Notifier) {
	lc.Append(fx.StartHook(ix.StartScanning))
}
