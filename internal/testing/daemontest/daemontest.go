// Package daemontest runs the musicfs binary as a test's child process, with
// a NOTIFY_SOCKET listener, and waits for its readiness and exit.
package daemontest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/internal/testing/notifytest"
)

// Proc is a running (or exited) musicfs process.
type Proc struct {
	Cmd    *exec.Cmd
	Notify *notifytest.Listener
	out    syncBuffer
	done   chan struct{}
	err    error // valid after done
}

type syncBuffer struct {
	mu sync.Mutex   // guards b
	b  bytes.Buffer // guarded by mu
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs the musicfs binary with args, env added to the environment and
// a NOTIFY_SOCKET listener. A process still running when the test ends is
// killed; a failed test shows its output.
func Start(tb testing.TB, env []string, args ...string) *Proc {
	tb.Helper()
	p := &Proc{Notify: notifytest.Listen(tb), done: make(chan struct{})}
	p.Cmd = exec.Command(mounttest.Binary(tb), args...)
	p.Cmd.Env = append(append(os.Environ(), p.Notify.Env()), env...)
	p.Cmd.Stdout, p.Cmd.Stderr = &p.out, &p.out
	if err := p.Cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { p.err = p.Cmd.Wait(); close(p.done) }()
	tb.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.Cmd.Process.Kill()
			<-p.done
		}
		if tb.Failed() {
			tb.Logf("musicfs %v output:\n%s", args, p.Output())
		}
	})
	return p
}

// Output is everything the process wrote to stdout and stderr so far.
func (p *Proc) Output() string { return p.out.String() }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Err is the process's exit error, once Done is closed.
func (p *Proc) Err() error { return p.err }

// WaitReady waits for READY=1, failing if the process exits first.
func (p *Proc) WaitReady(tb testing.TB, timeout time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ready := make(chan error, 1)
	go func() { _, err := p.Notify.Wait(ctx, "READY=1"); ready <- err }()
	select {
	case err := <-ready:
		if err != nil {
			tb.Fatalf("no READY=1 within %v: %v\n%s", timeout, err, p.Output())
		}
	case <-p.done:
		tb.Fatalf("musicfs exited before READY=1 (%v):\n%s", p.err, p.Output())
	}
}

// Wait waits for the process to exit and returns its exit code.
func (p *Proc) Wait(tb testing.TB, timeout time.Duration) int {
	tb.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		tb.Fatalf("musicfs did not exit within %v:\n%s", timeout, p.Output())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		tb.Fatal(p.err)
	}
	return 0
}

// Signal sends sig to the process.
func (p *Proc) Signal(tb testing.TB, sig os.Signal) {
	tb.Helper()
	if err := p.Cmd.Process.Signal(sig); err != nil {
		tb.Fatal(err)
	}
}
