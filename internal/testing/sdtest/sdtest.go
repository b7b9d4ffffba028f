// Package sdtest boots a throw-away real systemd as PID 1 of fresh
// pid/mount/uts/net/cgroup namespaces, for tests of units and of
// Type=notify daemons. It needs root, util-linux (unshare, nsenter, script)
// and the systemd package, but no running host systemd. It follows
// ../shared/tools/run-under-systemd.sh.
//
// Mounts made inside exist only in the instance's mount namespace; read them
// through Root(). /tmp, /etc and /var are the host's.
package sdtest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// SystemdPath is the systemd binary booted as PID 1.
const SystemdPath = "/lib/systemd/systemd"

//go:embed stage.sh
var stageScript []byte

// baseUnits are what boot, DefaultDependencies= and shutdown need.
var baseUnits = []string{
	"sysinit.target", "basic.target", "sockets.target", "timers.target", "paths.target", "slices.target",
	"shutdown.target", "final.target", "umount.target", "emergency.target",
	"poweroff.target", "systemd-poweroff.service", "exit.target", "systemd-exit.service",
	"halt.target", "systemd-halt.service", "reboot.target", "systemd-reboot.service",
}

const bootTarget = "[Unit]\nDescription=sdtest boot target\nRequires=basic.target\nAfter=basic.target\nAllowIsolate=yes\n"

// sigPoweroff is SIGRTMIN+4 as systemd, built with glibc (SIGRTMIN = 34),
// sees it: the signal for "systemctl poweroff".
const sigPoweroff = syscall.Signal(34 + 4)

var instances atomic.Int64

// Systemd is one booted instance.
type Systemd struct {
	t       testing.TB
	state   string // temp dir: units, stage script, console log
	cgroup  string // host path of the instance's cgroup
	console string

	script *exec.Cmd     // `script`, the pty owner; ancestor of the inner systemd
	exited chan struct{} // closed when script has exited
	pid    int           // host PID of the inner systemd

	stopOnce sync.Once
}

// Boot starts an instance whose unit path is unitDirs followed by a minimal
// unit set, waits until it is running, and stops it in t.Cleanup. It skips
// the test when the machine cannot run it, except with CI=true, where that
// is a failure.
func Boot(t testing.TB, unitDirs ...string) *Systemd {
	t.Helper()
	cgroot, err := available()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sdtest: %v", err)
		}
		t.Skipf("sdtest: %v", err)
	}
	s := &Systemd{t: t, state: t.TempDir()}
	s.cgroup = filepath.Join(cgroot, instanceName(t))
	s.console = filepath.Join(s.state, "console.log")
	t.Cleanup(s.Stop)
	start := time.Now()
	if err := s.boot(unitDirs); err != nil {
		t.Fatalf("sdtest: boot: %v\nconsole:\n%s", err, s.Console())
	}
	t.Logf("sdtest: systemd host-pid=%d booted in %v", s.pid, time.Since(start).Round(time.Millisecond))
	return s
}

// available reports why this machine cannot boot an instance, and otherwise
// returns the host's cgroup2 mount.
func available() (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("needs root")
	}
	if _, err := os.Stat(SystemdPath); err != nil {
		return "", fmt.Errorf("no systemd: %w", err)
	}
	for _, tool := range []string{"unshare", "nsenter", "script", "systemctl", "mount", "umount", "mknod"} {
		if _, err := exec.LookPath(tool); err != nil {
			return "", fmt.Errorf("needs %s (util-linux, bsdutils, systemd): %w", tool, err)
		}
	}
	for _, dir := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} { // unified, or hybrid
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
			return dir, nil
		}
	}
	return "", errors.New("no cgroup2 hierarchy mounted")
}

// instanceName is unique per test and process, so parallel tests and
// parallel test binaries do not share a cgroup.
func instanceName(t testing.TB) string {
	name := regexp.MustCompile(`[^A-Za-z0-9_-]+`).ReplaceAllString(t.Name(), "_")
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("sdtest-%s-%d-%d", name, os.Getpid(), instances.Add(1))
}

func (s *Systemd) boot(unitDirs []string) error {
	units := filepath.Join(s.state, "units")
	if err := writeBaseUnits(units); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(s.state, "empty"), 0o755); err != nil {
		return err
	}
	var path []string
	for _, d := range unitDirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return err
		}
		path = append(path, abs)
	}
	path = append(path, units) // no trailing ':': the host's unit dirs stay out
	stage := filepath.Join(s.state, "stage.sh")
	if err := os.WriteFile(stage, stageScript, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(s.console, nil, 0o644); err != nil {
		return err
	}
	if err := os.Mkdir(s.cgroup, 0o755); err != nil {
		return fmt.Errorf("create cgroup: %w", err)
	}

	// script gives the instance a pty for /dev/console and logs it to a file.
	cmd := exec.Command("script", "-qfec",
		"exec unshare --pid --fork --kill-child --mount --uts --net --mount-proc --propagation private "+
			shellQuote(stage)+" stage1",
		s.console)
	cmd.Env = append(os.Environ(),
		"SDNS_CG="+s.cgroup, "SDNS_UNIT_PATH="+strings.Join(path, ":"),
		"SDNS_STATE="+s.state, "SDNS_SYSTEMD="+SystemdPath)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start script: %w", err)
	}
	s.script, s.exited = cmd, make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()

	// PID 1 exists and listens on its private bus socket.
	deadline := time.Now().Add(15 * time.Second)
	for s.pid == 0 {
		if p := s.initPID(); p > 0 {
			fi, err := os.Stat(fmt.Sprintf("/proc/%d/root/run/systemd/private", p))
			if err == nil && fi.Mode()&os.ModeSocket != 0 {
				s.pid = p
				break
			}
		}
		select {
		case <-s.exited:
			return errors.New("systemd exited during boot")
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("systemd did not come up within 15s")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.nsenter(ctx, "systemctl", "is-system-running", "--wait")
	if out = strings.TrimSpace(out); out != "running" {
		s.t.Logf("sdtest: system state %q (%v)", out, err)
	}
	return nil
}

func writeBaseUnits(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, u := range baseUnits {
		b, err := os.ReadFile(filepath.Join("/lib/systemd/system", u))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, u), b, 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "sdns.target"), []byte(bootTarget), 0o644)
}

// initPID is the host PID of the instance's PID 1, from its cgroup.
func (s *Systemd) initPID() int {
	b, err := os.ReadFile(filepath.Join(s.cgroup, "init.scope", "cgroup.procs"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	p, _ := strconv.Atoi(first)
	return p
}

// PID is the host PID of the inner systemd.
func (s *Systemd) PID() int { return s.pid }

// Root is the inner mount namespace's root as seen from the host.
func (s *Systemd) Root() string { return fmt.Sprintf("/proc/%d/root", s.pid) }

// Console is everything written to the instance's console so far: systemd's
// log and the services' stdout and stderr.
func (s *Systemd) Console() string {
	b, _ := os.ReadFile(s.console)
	return string(b)
}

// Ctl runs systemctl inside the instance and returns its combined output.
func (s *Systemd) Ctl(args ...string) (string, error) {
	return s.Exec(append([]string{"systemctl"}, args...)...)
}

// Exec runs a command inside the instance's namespaces and returns its
// combined output.
func (s *Systemd) Exec(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return s.nsenter(ctx, args...)
}

func (s *Systemd) nsenter(ctx context.Context, args ...string) (string, error) {
	if s.pid == 0 {
		return "", errors.New("sdtest: systemd is not running")
	}
	cmd := exec.CommandContext(ctx, "nsenter",
		append([]string{"-t", strconv.Itoa(s.pid), "-m", "-p", "-u", "-n", "-C"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return string(out), nil
}

// Show returns one property of a unit (systemctl show -p PROP --value).
func (s *Systemd) Show(unit, prop string) string {
	out, err := s.Ctl("show", "-p", prop, "--value", unit)
	if err != nil {
		s.t.Logf("sdtest: %v", err)
	}
	return strings.TrimSpace(out)
}

// WaitActive waits until the unit is active; it gives up early when the unit
// fails.
func (s *Systemd) WaitActive(unit string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		state := s.Show(unit, "ActiveState")
		switch state {
		case "active":
			return nil
		case "failed":
			return fmt.Errorf("%s failed (Result=%s)", unit, s.Show(unit, "Result"))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not active after %v: ActiveState=%s SubState=%s",
				unit, timeout, state, s.Show(unit, "SubState"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop powers the instance off as `systemctl poweroff` would (units stop,
// ExecStop*/ExecStopPost run), kills it after 20 s, and removes its cgroup.
// It runs in t.Cleanup; calling it earlier is fine.
func (s *Systemd) Stop() {
	s.stopOnce.Do(s.stop)
}

func (s *Systemd) stop() {
	if s.pid == 0 {
		s.pid = s.initPID() // boot failed half-way
	}
	if s.pid > 0 && alive(s.pid) {
		_ = syscall.Kill(s.pid, sigPoweroff)
		if !waitGone(s.pid, 20*time.Second) {
			s.t.Errorf("sdtest: graceful poweroff timed out; SIGKILL to PID 1")
			_ = syscall.Kill(s.pid, syscall.SIGKILL)
		}
	}
	if s.script != nil {
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = s.script.Process.Kill()
			<-s.exited
		}
	}
	if err := removeCgroup(s.cgroup); err != nil {
		s.t.Errorf("sdtest: %v", err)
	}
	if s.t.Failed() {
		s.t.Logf("sdtest: console of systemd host-pid=%d:\n%s", s.pid, s.Console())
	}
}

// removeCgroup removes the instance's cgroup tree, killing whatever is left
// in it first.
func removeCgroup(cg string) error {
	if _, err := os.Stat(cg); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := rmdirTree(cg)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("remove cgroup %s: %w", cg, err)
		}
		_ = os.WriteFile(filepath.Join(cg, "cgroup.kill"), []byte("1"), 0)
		time.Sleep(50 * time.Millisecond)
	}
}

// rmdirTree removes a cgroup directory tree depth-first; cgroup dirs are
// removed with rmdir, never by unlinking their files.
func rmdirTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			if err := rmdirTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("rmdir %s: %w", dir, err)
	}
	return nil
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
}

func waitGone(pid int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for alive(pid) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
