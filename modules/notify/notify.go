package notify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

var errNegativeInterval = errors.New("notify: StatusInterval must not be negative")

// Prober checks that the daemon really serves, e.g. by a timed stat of the
// mount root. Probe must return once ctx is done.
type Prober interface {
	Probe(ctx context.Context) error
}

// Reporter gives a one-line status such as
// "serving 1234 tracks from 2 origins (1 offline: nas)".
type Reporter interface {
	Status() string
}

// Params are the Notifier's dependencies.
type Params struct {
	fx.In

	Prober   Prober
	Reporter Reporter
	Logger   *zap.Logger
	Options  Options `optional:"true"`
}

// Notifier speaks the sd_notify protocol. Outside systemd (NOTIFY_SOCKET
// unset) it does nothing.
type Notifier struct {
	prober   Prober
	reporter Reporter
	log      *zap.Logger
	opts     Options

	cancel context.CancelFunc // set by Start when NOTIFY_SOCKET is set
	done   chan struct{}      // closed when the loop goroutine exits
}

// New builds a Notifier; it does no I/O.
func New(p Params) (*Notifier, error) {
	if p.Prober == nil || p.Reporter == nil || p.Logger == nil {
		return nil, errors.New("notify: Prober, Reporter and Logger are required")
	}
	if err := p.Options.Validate(); err != nil {
		return nil, err
	}
	return &Notifier{
		prober:   p.Prober,
		reporter: p.Reporter,
		log:      p.Logger,
		opts:     p.Options.withDefaults(),
	}, nil
}

// Start sends READY=1 with the current status and starts the goroutine that
// keeps STATUS= current and pings the watchdog.
func (n *Notifier) Start(context.Context) error {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		n.log.Debug("NOTIFY_SOCKET unset: not running under systemd, not notifying")
		return nil
	}
	watchdog, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return fmt.Errorf("read systemd watchdog settings: %w", err)
	}
	status := oneLine(n.reporter.Status())
	if err := notify("READY=1\nSTATUS=" + status); err != nil {
		return err
	}
	n.log.Info("notified systemd: ready", zap.String("status", status), zap.Duration("watchdog", watchdog))

	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.done = make(chan struct{})
	go n.loop(ctx, status, watchdog)
	return nil
}

// Stop sends STOPPING=1 before anything else shuts down, then stops the loop.
func (n *Notifier) Stop(ctx context.Context) error {
	if n.cancel == nil {
		return nil
	}
	if err := notify("STOPPING=1"); err != nil {
		n.log.Warn("notify systemd of stopping", zap.Error(err))
	}
	n.cancel()
	select {
	case <-n.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for notify loop: %w", ctx.Err())
	}
}

// loop re-sends STATUS= when it changes and, with the watchdog enabled, pings
// it every half interval, but only after a probe of the mount succeeds: a
// daemon whose mount hangs must be restarted by systemd.
func (n *Notifier) loop(ctx context.Context, status string, watchdog time.Duration) {
	defer close(n.done)

	statusTick := time.NewTicker(n.opts.StatusInterval)
	defer statusTick.Stop()

	var ping <-chan time.Time
	if watchdog > 0 {
		t := time.NewTicker(watchdog / 2)
		defer t.Stop()
		ping = t.C
		n.pingWatchdog(ctx, watchdog/2) // the timer may have run since the process started
	}

	for {
		select {
		case <-ctx.Done():
			return
		case <-statusTick.C:
			status = n.sendStatus(status)
		case <-ping:
			n.pingWatchdog(ctx, watchdog/2)
		}
	}
}

// sendStatus sends STATUS= if it changed from last and returns what systemd
// now shows. A panic in the reporter is logged and the old status kept: the
// loop, and with it the watchdog, must keep running.
func (n *Notifier) sendStatus(last string) (shown string) {
	shown = last
	defer func() {
		if r := recover(); r != nil {
			n.log.Error("status reporter panicked", zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
		}
	}()
	s := oneLine(n.reporter.Status())
	if s == last {
		return last
	}
	if err := notify("STATUS=" + s); err != nil {
		n.log.Warn("send status to systemd", zap.Error(err))
		return last
	}
	return s
}

func (n *Notifier) pingWatchdog(ctx context.Context, timeout time.Duration) {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	err := n.prober.Probe(pctx)
	cancel()
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		n.log.Warn("probe failed; withholding watchdog ping", zap.Error(err))
		return
	}
	if err := notify("WATCHDOG=1"); err != nil {
		n.log.Warn("send watchdog ping to systemd", zap.Error(err))
	}
}

func notify(state string) error {
	if _, err := daemon.SdNotify(false, state); err != nil {
		return fmt.Errorf("sd_notify %s: %w", strings.SplitN(state, "\n", 2)[0], err)
	}
	return nil
}

// oneLine keeps a status from injecting further sd_notify assignments.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
