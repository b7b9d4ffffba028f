package app

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/index"
)

// hangup turns SIGHUP into a rescan, as daemons conventionally reload on it.
type hangup struct {
	log   *zap.Logger
	index *index.Index
	sig   chan os.Signal
	wg    sync.WaitGroup
}

func newHangup(lc fx.Lifecycle, log *zap.Logger, ix *index.Index) *hangup {
	h := &hangup{log: log, index: ix, sig: make(chan os.Signal, 1)}
	lc.Append(fx.StartStopHook(h.start, h.stop))
	return h
}

func (h *hangup) start() {
	signal.Notify(h.sig, syscall.SIGHUP)
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		for range h.sig {
			h.log.Info("SIGHUP: rescanning origins")
			h.index.Rescan()
		}
	}()
}

func (h *hangup) stop(context.Context) {
	signal.Stop(h.sig)
	close(h.sig)
	h.wg.Wait()
}
