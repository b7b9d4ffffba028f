package e2e

import (
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/internal/testing/faults"
)

// A reader killed while its read waits on a hung origin takes the origin
// call down with it: the FUSE interrupt cancels the request's context, and
// that context reaches the origin's ReadAt. Nothing is left running for it.
func TestKilledReaderReleasesOriginCall(t *testing.T) {
	lib, rels := cacheLib(t, 1, 4<<20)
	var f *faults.Flaky
	d := startDaemon(t, lib, flaky(&f), configure(func(c *app.Config) { c.Origins.ReadTimeout = time.Minute }))
	t.Cleanup(f.Resume)
	settle := func() int {
		// Goroutines of earlier work (the scan, its rebuild) wind down.
		time.Sleep(200 * time.Millisecond)
		return busyGoroutines()
	}
	before := settle()

	f.Hang()
	reader := exec.Command("dd", "if="+d.Path("Origins/lib/"+rels[0]), "of=/dev/null", "bs=64k", "iflag=direct")
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); f.Blocked() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the reader's read never reached the origin")
		}
	}
	inFlight := busyGoroutines()
	killed := time.Now()
	if err := reader.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	// The killed reader exits only once its read is answered.
	go func() { _ = reader.Wait() }()
	for f.Blocked() > 0 {
		if time.Since(killed) > 2*time.Second {
			t.Fatalf("origin read still blocked %v after its reader was killed, want ≤ 100 ms", time.Since(killed))
		}
		time.Sleep(time.Millisecond)
	}
	if took := time.Since(killed); took > 100*time.Millisecond {
		t.Fatalf("origin read released %v after its reader was killed, want ≤ 100 ms", took)
	}
	t.Logf("goroutines: %d before, %d with one read in flight, origin call released %v after the kill",
		before, inFlight, time.Since(killed).Round(time.Millisecond))
	var after int
	for deadline := time.Now().Add(2 * time.Second); ; {
		if after = busyGoroutines(); after <= before || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if after > before {
		t.Fatalf("goroutines: %d before the read, %d after it was cancelled:\n%s", before, after, stacks())
	}
}

// A signal the reader handles (a timer, SIGCHLD, a runtime's preemption
// signal) interrupts its FUSE request too, but must not fail or restart the
// read: the origin call goes on and the reader gets its bytes.
func TestHandledSignalDoesNotInterruptRead(t *testing.T) {
	lib, rels := cacheLib(t, 1, 2<<20)
	var f *faults.Flaky
	d := startDaemon(t, lib, flaky(&f))
	t.Cleanup(f.Resume)
	f.Hang()
	// Reads 64 KiB with O_DIRECT while counting SIGUSR1s, and prints the
	// bytes' length (Python retries reads that get EINTR: PEP 475).
	script := `import os, signal, sys
n = 0
def h(*a):
    global n
    n += 1
signal.signal(signal.SIGUSR1, h)
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
print(len(os.pread(fd, 65536, 0)), n)`
	var out strings.Builder
	reader := exec.Command("/usr/bin/python3", "-c", script, d.Path("Origins/lib/"+rels[0]))
	reader.Stdout, reader.Stderr = &out, &out
	if err := reader.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); f.Blocked() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the reader's read never reached the origin")
		}
	}
	calls := f.Calls()
	for range 5 {
		if err := reader.Process.Signal(syscall.SIGUSR1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		if f.Blocked() != 1 {
			t.Fatalf("%d origin reads blocked after a handled signal, want the same 1", f.Blocked())
		}
	}
	f.Resume()
	if err := reader.Wait(); err != nil {
		t.Fatalf("reader: %v\n%s", err, out.String())
	}
	// The first signal interrupts the request; the kernel then waits for
	// the answer and the rest coalesce into one pending signal.
	if got := strings.TrimSpace(out.String()); got != "65536 1" && got != "65536 2" {
		t.Fatalf("reader printed %q, want 65536 bytes read and the signals handled", got)
	}
	if n := f.Calls() - calls; n != 1 {
		t.Fatalf("%d origin reads completed for the interrupted request, want 1", n)
	}
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// busyGoroutines counts the goroutines running the daemon's own code
// (modules/): go-fuse keeps a pool of request readers that grows and
// shrinks with load on its own, and the test's goroutines come and go.
func busyGoroutines() int {
	n := 0
	for g := range strings.SplitSeq(stacks(), "\n\n") {
		if strings.Contains(g, "github.com/musicfs/musicfs/modules/") {
			n++
		}
	}
	return n
}
