package sdtest

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// childEnv makes the test binary a stand-in service (see child).
const childEnv = "SDTEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(child(mode))
	}
	os.Exit(m.Run())
}

// child is a Type=notify service: with mode "fuse" it first checks that it
// may open /dev/fuse (DeviceAllow=). It says READY=1 from its main process,
// so NotifyAccess=main suffices, and exits 0 on SIGTERM.
func child(mode string) int {
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	if mode == "fuse" {
		f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
		if err != nil {
			fmt.Println("child:", err)
			return 1
		}
		f.Close()
	}
	if _, err := daemon.SdNotify(false, "READY=1\nSTATUS=child serving"); err != nil {
		fmt.Println("child:", err)
		return 1
	}
	fmt.Printf("child ready (mode %s, STATE_DIRECTORY=%s)\n", mode, os.Getenv("STATE_DIRECTORY"))
	<-term
	fmt.Println("child stopping")
	return 0
}

func self(t testing.TB) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func writeUnit(t testing.TB, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBootStartStop(t *testing.T) {
	units := t.TempDir()
	writeUnit(t, units, "probe.service", fmt.Sprintf(`[Unit]
Description=sdtest probe

[Service]
Type=notify
NotifyAccess=main
Environment=%s=notify
ExecStart=%s
`, childEnv, self(t)))

	start := time.Now()
	sd := Boot(t, units)
	if out, err := sd.Exec("cat", "/proc/1/comm"); err != nil || strings.TrimSpace(out) != "systemd" {
		t.Fatalf("PID 1 inside = %q, %v", out, err)
	}
	if _, err := os.Stat(filepath.Join(sd.Root(), "run/systemd/private")); err != nil {
		t.Fatalf("Root() does not show the inner /run: %v", err)
	}

	if out, err := sd.Ctl("start", "probe.service"); err != nil {
		t.Fatalf("start: %v %s", err, out)
	}
	if err := sd.WaitActive("probe.service", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := sd.Show("probe.service", "StatusText"); got != "child serving" {
		t.Errorf("StatusText = %q", got)
	}
	// The console is written through script(1): the line may lag a little.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(sd.Console(), "child ready"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("service output missing from the console:\n%s", sd.Console())
			break
		}
	}

	if out, err := sd.Ctl("stop", "probe.service"); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	if got := sd.Show("probe.service", "ActiveState"); got != "inactive" {
		t.Errorf("ActiveState after stop = %q", got)
	}
	if got := sd.Show("probe.service", "Result"); got != "success" {
		t.Errorf("Result after stop = %q", got)
	}

	pid, cg := sd.PID(), sd.cgroup
	sd.Stop()
	if alive(pid) {
		t.Errorf("inner systemd %d still alive after Stop", pid)
	}
	if _, err := os.Stat(cg); !os.IsNotExist(err) {
		t.Errorf("cgroup %s left behind: %v", cg, err)
	}
	select {
	case <-sd.exited:
	default:
		t.Error("script still running after Stop")
	}
	if !strings.Contains(sd.Console(), "child stopping") {
		t.Errorf("service did not get SIGTERM:\n%s", sd.Console())
	}
	t.Logf("boot, start, stop, poweroff: %v", time.Since(start).Round(time.Millisecond))
}

func TestParallelInstances(t *testing.T) {
	for i := range 2 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			sd := Boot(t)
			if out, err := sd.Ctl("is-system-running"); strings.TrimSpace(out) != "running" {
				t.Fatalf("is-system-running = %q, %v", out, err)
			}
		})
	}
}

func TestWaitActiveReportsFailure(t *testing.T) {
	units := t.TempDir()
	writeUnit(t, units, "broken.service", "[Service]\nType=notify\nExecStart=/bin/false\n")
	sd := Boot(t, units)
	_, _ = sd.Ctl("start", "broken.service") // fails: the job fails
	err := sd.WaitActive("broken.service", 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "Result=exit-code") {
		t.Fatalf("WaitActive on a failing unit = %v", err)
	}
}
