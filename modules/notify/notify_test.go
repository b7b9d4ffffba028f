package notify_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/musicfs/musicfs/internal/testing/notifytest"
	"github.com/musicfs/musicfs/modules/notify"
)

// fakeProber fails while err is set and can block a probe until released.
type fakeProber struct {
	mu      sync.Mutex
	err     error         // guarded by mu
	block   chan struct{} // guarded by mu; when set, Probe waits for it to close, ignoring ctx
	blocked chan struct{} // receives when a probe starts waiting on block
	budgets []time.Duration
	calls   chan error // each finished probe's result, when not full
}

func newProber() *fakeProber {
	return &fakeProber{calls: make(chan error, 1000), blocked: make(chan struct{}, 1000)}
}

func (p *fakeProber) Probe(ctx context.Context) error {
	p.mu.Lock()
	block := p.block
	if d, ok := ctx.Deadline(); ok {
		p.budgets = append(p.budgets, time.Until(d))
	} else {
		p.budgets = append(p.budgets, -1)
	}
	p.mu.Unlock()
	if block != nil {
		p.blocked <- struct{}{}
		<-block
	}
	p.mu.Lock()
	err := p.err
	p.mu.Unlock()
	select {
	case p.calls <- err:
	default:
	}
	return err
}

func (p *fakeProber) setErr(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

// waitFailures waits for n probes that returned an error.
func (p *fakeProber) waitFailures(t *testing.T, n int) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for n > 0 {
		select {
		case err := <-p.calls:
			if err != nil {
				n--
			}
		case <-timeout:
			t.Fatalf("%d failed probes still expected", n)
		}
	}
}

type fakeReporter struct {
	mu     sync.Mutex
	status string // guarded by mu
	calls  chan struct{}
}

func newReporter(s string) *fakeReporter {
	return &fakeReporter{status: s, calls: make(chan struct{}, 1000)}
}

func (r *fakeReporter) Status() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case r.calls <- struct{}{}:
	default:
	}
	return r.status
}

func (r *fakeReporter) set(s string) {
	r.mu.Lock()
	r.status = s
	r.mu.Unlock()
}

// listen points NOTIFY_SOCKET at a fresh listener and clears the watchdog.
func listen(t *testing.T) *notifytest.Listener {
	l := notifytest.Listen(t)
	t.Setenv("NOTIFY_SOCKET", l.Path())
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	return l
}

// mark sends a line of our own: everything the notifier sent before it is
// ordered before it in the listener.
func mark(t *testing.T, l *notifytest.Listener, line string) {
	t.Helper()
	if _, err := daemon.SdNotify(false, line); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Wait(ctx(t), line); err != nil {
		t.Fatal(err)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return c
}

func after(lines []string, marker string) []string {
	for i, l := range lines {
		if l == marker {
			return lines[i+1:]
		}
	}
	return nil
}

func count(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func newApp(t *testing.T, p notify.Prober, r notify.Reporter, opts ...fx.Option) *fxtest.App {
	return fxtest.New(t,
		notify.Module,
		fx.Provide(
			func() *zap.Logger { return zaptest.NewLogger(t) },
			func() notify.Prober { return p },
			func() notify.Reporter { return r },
		),
		fx.Options(opts...),
	)
}

func TestReadyAndStatusOnlyAfterStart(t *testing.T) {
	l := listen(t)
	r := newReporter("serving 3 tracks from 1 origin")
	app := newApp(t, newProber(), r, fx.Supply(notify.Options{StatusInterval: 20 * time.Millisecond}))

	mark(t, l, "X-TEST=before-start")
	if got := l.Messages(); len(got) != 1 {
		t.Fatalf("messages before Start: %q", got)
	}

	app.RequireStart()
	defer app.RequireStop()
	if _, err := l.Wait(ctx(t), "READY=1"); err != nil {
		t.Fatal(err)
	}
	if line, err := l.Wait(ctx(t), "STATUS="); err != nil || line != "STATUS=serving 3 tracks from 1 origin" {
		t.Fatalf("STATUS line = %q, %v", line, err)
	}

	// Unchanged status is not re-sent.
	for range 5 {
		<-r.calls
	}
	mark(t, l, "X-TEST=unchanged")
	if n := count(l.Messages(), "STATUS="); n != 1 {
		t.Fatalf("%d STATUS= lines for an unchanged status, want 1", n)
	}

	r.set("serving 4 tracks from 2 origins (1 offline: nas)\nREADY=0")
	if _, err := l.Wait(ctx(t), "STATUS=serving 4 tracks from 2 origins (1 offline: nas) READY=0"); err != nil {
		t.Fatalf("changed status not sent as one line: %v; got %q", err, l.Messages())
	}
	if n := count(l.Messages(), "READY="); n != 1 {
		t.Fatalf("READY= lines = %d, want 1", n)
	}
}

func TestWatchdogPingsOnlyWhileProbeSucceeds(t *testing.T) {
	l := listen(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	p := newProber()
	app := newApp(t, p, newReporter("ok"))
	app.RequireStart()
	defer app.RequireStop()

	if err := l.WaitCount(ctx(t), "WATCHDOG=1", 3); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	for _, b := range p.budgets {
		if b <= 0 || b > 100*time.Millisecond {
			t.Errorf("probe budget %v, want (0, 100ms] (half of WATCHDOG_USEC)", b)
		}
	}
	p.mu.Unlock()

	p.setErr(errors.New("stat /mnt: timed out"))
	p.waitFailures(t, 1)
	mark(t, l, "X-TEST=failing")
	p.waitFailures(t, 3)
	if n := count(after(l.Messages(), "X-TEST=failing"), "WATCHDOG="); n != 0 {
		t.Fatalf("%d watchdog pings while the probe fails", n)
	}

	pings := l.Count("WATCHDOG=1")
	p.setErr(nil)
	if err := l.WaitCount(ctx(t), "WATCHDOG=1", pings+1); err != nil {
		t.Fatalf("pings did not resume after the probe recovered: %v", err)
	}
}

func TestWatchdogForAnotherPIDIsIgnored(t *testing.T) {
	l := listen(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
	p := newProber()
	r := newReporter("ok")
	app := newApp(t, p, r, fx.Supply(notify.Options{StatusInterval: 20 * time.Millisecond}))
	app.RequireStart()
	defer app.RequireStop()
	for range 15 { // 300 ms: three watchdog half-intervals
		<-r.calls
	}
	mark(t, l, "X-TEST=done")
	if n := l.Count("WATCHDOG="); n != 0 {
		t.Fatalf("%d pings for a watchdog meant for another process", n)
	}
	if len(p.calls) != 0 {
		t.Fatal("probed without a watchdog")
	}
}

func TestBadWatchdogUsecFailsStart(t *testing.T) {
	l := listen(t)
	t.Setenv("WATCHDOG_USEC", "soon")
	n, err := notify.New(notify.Params{Prober: newProber(), Reporter: newReporter("ok"), Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "WATCHDOG_USEC") {
		t.Fatalf("Start = %v, want an error naming WATCHDOG_USEC", err)
	}
	mark(t, l, "X-TEST=done")
	if l.Seen("READY=1") {
		t.Fatal("READY=1 sent despite a bad watchdog setting")
	}
	if err := n.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestStoppingSentFirst(t *testing.T) {
	l := listen(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	p := newProber()
	app := newApp(t, p, newReporter("ok"))
	app.RequireStart()
	if _, err := l.Wait(ctx(t), "READY=1"); err != nil {
		t.Fatal(err)
	}

	// A probe that is stuck must not delay STOPPING=1.
	release := make(chan struct{})
	p.mu.Lock()
	p.block = release
	p.mu.Unlock()
	<-p.blocked
	stopped := make(chan error, 1)
	go func() { stopped <- app.Stop(context.Background()) }()
	_, err := l.Wait(ctx(t), "STOPPING=1")
	close(release)
	if err != nil {
		t.Fatalf("STOPPING=1 not sent while the loop was busy: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

func TestStopWaitsForLoop(t *testing.T) {
	listen(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	p := newProber()
	release := make(chan struct{})
	defer close(release)
	p.block = release
	n, err := notify.New(notify.Params{Prober: p, Reporter: newReporter("ok"), Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := n.Stop(c); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop with a stuck loop = %v, want deadline exceeded", err)
	}
}

func TestOutsideSystemdDoesNothing(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "200000")
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())

	core, logs := observer.New(zapcore.DebugLevel)
	p := newProber()
	r := newReporter("ok")
	n, err := notify.New(notify.Params{Prober: p, Reporter: r, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	ignore := goleak.IgnoreCurrent()
	if err := n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, ignore)
	if err := n.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 1 || logs.All()[0].Level != zapcore.DebugLevel {
		t.Fatalf("logs = %v, want one debug line", logs.All())
	}
	if len(p.calls) != 0 || len(r.calls) != 0 {
		t.Fatal("probed or asked for status outside systemd")
	}
}

func TestValidate(t *testing.T) {
	err := fx.ValidateApp(notify.Module, fx.Provide(
		zap.NewNop,
		func() notify.Prober { return newProber() },
		func() notify.Reporter { return newReporter("") },
	))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := notify.New(notify.Params{Prober: newProber(), Reporter: newReporter(""), Logger: zap.NewNop(),
		Options: notify.Options{StatusInterval: -time.Second}}); err == nil {
		t.Fatal("negative StatusInterval accepted")
	}
}

// panickyReporter works for the first call (READY's status) and panics after.
type panickyReporter struct{ calls atomic.Int64 }

func (r *panickyReporter) Status() string {
	if r.calls.Add(1) > 1 {
		panic("reporter bug")
	}
	return "ok"
}

// A panic in the status reporter is logged and the loop, with the watchdog
// pings, goes on.
func TestReporterPanicKeepsWatchdog(t *testing.T) {
	l := listen(t)
	t.Setenv("WATCHDOG_USEC", "200000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	core, logs := observer.New(zapcore.ErrorLevel)
	r := &panickyReporter{}
	app := fxtest.New(t, notify.Module,
		fx.Provide(
			func() *zap.Logger { return zap.New(core) },
			func() notify.Prober { return newProber() },
			func() notify.Reporter { return r },
		),
		fx.Supply(notify.Options{StatusInterval: 10 * time.Millisecond}))
	app.RequireStart()
	defer app.RequireStop()
	for r.calls.Load() < 3 {
		time.Sleep(5 * time.Millisecond)
	}
	pings := l.Count("WATCHDOG=1")
	if err := l.WaitCount(ctx(t), "WATCHDOG=1", pings+2); err != nil {
		t.Fatalf("watchdog stopped after the reporter panicked: %v", err)
	}
	if logs.FilterMessage("status reporter panicked").Len() == 0 {
		t.Fatal("the panic was not logged")
	}
}
