package fusefs

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// errCallerGone is the cause of a read cancelled because its caller is
// dying.
var errCallerGone = errors.New("the reading process is being killed")

// dyingPoll is how often an interrupted request checks that its caller is
// still alive.
const dyingPoll = 20 * time.Millisecond

// readContext is the context a request waits on the origin with. The
// kernel interrupts a FUSE request whenever its caller gets any signal, and
// most are harmless (a timer, SIGCHLD, a Go runtime's preemption signal):
// the request then goes on, as with most filesystems, since a caller that
// gets EINTR from read(2) may treat it as an error. Only a caller that is
// dying (killed, or by a fatal signal) cancels it, so that its origin call
// ends at once instead of at the read timeout. end must be called when the
// request is done.
func readContext(ctx context.Context) (_ context.Context, end func()) {
	fc, ok := ctx.(*fuse.Context)
	if !ok {
		return ctx, func() {}
	}
	pid := int(fc.Caller.Pid)
	rctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	done := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		tick := time.NewTicker(dyingPoll)
		defer tick.Stop()
		for !dying(pid) {
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
		cancel(errCallerGone)
	})
	return rctx, func() {
		stop()
		close(done)
		cancel(nil)
	}
}

// dying reports whether task pid (a thread, as FUSE names callers) has
// SIGKILL pending, which is how the kernel ends a thread group on any fatal
// signal, or is gone.
func dying(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		name, hex, ok := strings.Cut(line, ":")
		if !ok || (name != "SigPnd" && name != "ShdPnd") {
			continue
		}
		if mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64); err == nil && mask&(1<<(9-1)) != 0 {
			return true // bit 9 - 1: SIGKILL
		}
	}
	return false
}
