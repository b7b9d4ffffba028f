// Package supervise keeps a module's background loops running: a panic in
// one (a bug, or a damaged database making bbolt panic) is logged with its
// stack and the loop is started again, instead of taking the daemon down.
package supervise

import (
	"runtime/debug"
	"time"

	"go.uber.org/zap"
)

// Protect runs fn and reports whether it returned; a panic is logged, with
// its stack, as one of task.
func Protect(log *zap.Logger, task string, fn func()) (returned bool) {
	defer func() {
		if v := recover(); v != nil {
			log.Error("background task panicked", zap.String("task", task),
				zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
		}
	}()
	fn()
	return true
}

// Loop runs loop until it returns, restarting it after a panic. Restarts
// back off from a second to a minute; done ends the wait.
func Loop(log *zap.Logger, task string, done <-chan struct{}, loop func()) {
	backoff := time.Second
	for !Protect(log, task, loop) {
		t := time.NewTimer(backoff)
		select {
		case <-done:
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, time.Minute)
	}
}
