package sdtest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// shippedUnit is dist/musicfs.service, relative to this package.
var shippedUnit = filepath.Join("..", "..", "..", "dist", "musicfs.service")

// unitWith returns the shipped unit with its command lines replaced.
func unitWith(t *testing.T, execStart, execStopPost string, extra ...string) string {
	t.Helper()
	b, err := os.ReadFile(shippedUnit)
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for old, new := range map[string]string{
		"ExecStart=/usr/bin/musicfs ":        "ExecStart=" + execStart + " ",
		"ExecStopPost=-/usr/bin/fusermount3": "ExecStopPost=-" + execStopPost,
	} {
		if !strings.Contains(unit, old) {
			t.Fatalf("%s has no %q", shippedUnit, old)
		}
		unit = strings.Replace(unit, old, new, 1)
	}
	if len(extra) > 0 {
		unit = strings.Replace(unit, "[Service]\n", "[Service]\n"+strings.Join(extra, "\n")+"\n", 1)
	}
	return unit
}

func TestShippedUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("systemd-analyze is missing (apt-get install systemd)")
		}
		t.Skip("no systemd-analyze")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "musicfs.service")
	if err := os.WriteFile(path, []byte(unitWith(t, "/bin/true", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestShippedUnitContract(t *testing.T) {
	b, err := os.ReadFile(shippedUnit)
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	for _, want := range []string{
		"Type=notify", "NotifyAccess=main",
		"ExecStart=/usr/bin/musicfs --config /etc/musicfs.yaml",
		"ExecStopPost=-/usr/bin/fusermount3 -uz /srv/music",
		"Restart=on-failure", "RestartSec=2s", "WatchdogSec=30s", "TimeoutStopSec=20s", "KillMode=mixed",
		"DeviceAllow=/dev/fuse rw", "StateDirectory=musicfs", "StateDirectoryMode=0700",
		"CacheDirectory=musicfs", "CacheDirectoryMode=0700",
		"After=network-online.target remote-fs.target", "Wants=network-online.target",
		"WantedBy=multi-user.target",
	} {
		if !hasLine(unit, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	// Each of these gives the service its own mount namespace, hiding the mount.
	for _, key := range []string{"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices", "PrivateMounts",
		"ReadOnlyPaths", "ReadWritePaths", "InaccessiblePaths", "TemporaryFileSystem", "BindPaths",
		"BindReadOnlyPaths", "ProtectKernelTunables", "ProtectControlGroups", "DynamicUser", "MountFlags"} {
		for _, line := range strings.Split(unit, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), key+"=") {
				t.Errorf("unit sets %s: the mount would be private to the service", line)
			}
		}
	}
}

func hasLine(unit, want string) bool {
	for _, line := range strings.Split(unit, "\n") {
		if strings.TrimSpace(line) == want {
			return true
		}
	}
	return false
}

// TestShippedUnitUnderSystemd runs the shipped unit, with a stand-in daemon
// that opens /dev/fuse and says READY=1, under a real systemd.
func TestShippedUnitUnderSystemd(t *testing.T) {
	state, cache := "/var/lib/musicfs", "/var/cache/musicfs"
	fresh := !exists(state) && !exists(cache) // leave an installed musicfs's dirs alone
	units := t.TempDir()
	unit := unitWith(t, self(t), "/usr/bin/fusermount3", "Environment="+childEnv+"=fuse")
	if !fresh {
		unit = strings.Replace(unit, "StateDirectory=musicfs", "StateDirectory=", 1)
		unit = strings.Replace(unit, "CacheDirectory=musicfs", "CacheDirectory=", 1)
	}
	writeUnit(t, units, "musicfs.service", unit)
	if fresh {
		t.Cleanup(func() { os.RemoveAll(state); os.RemoveAll(cache) })
	}

	sd := Boot(t, units)
	if out, err := sd.Ctl("start", "musicfs.service"); err != nil {
		t.Fatalf("start: %v %s", err, out)
	}
	if err := sd.WaitActive("musicfs.service", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for prop, want := range map[string]string{
		"Type": "notify", "NotifyAccess": "main", "Restart": "on-failure", "WatchdogUSec": "30s",
		"TimeoutStopUSec": "20s", "KillMode": "mixed", "StatusText": "child serving",
	} {
		if got := sd.Show("musicfs.service", prop); got != want {
			t.Errorf("%s = %q, want %q", prop, got, want)
		}
	}
	if fresh {
		for _, dir := range []string{state, cache} {
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("%s: %v, %v; want a 0700 directory", dir, fi, err)
			}
		}
	}

	// A crash (SIGKILL of the daemon) brings it back after RestartSec.
	mainPID := sd.Show("musicfs.service", "MainPID")
	if out, err := sd.Ctl("kill", "--kill-who=main", "--signal=SIGKILL", "musicfs.service"); err != nil {
		t.Fatalf("kill: %v %s", err, out)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sd.Show("musicfs.service", "NRestarts") != "1" || sd.Show("musicfs.service", "ActiveState") != "active" {
		if time.Now().After(deadline) {
			t.Fatalf("not restarted after SIGKILL: NRestarts=%s ActiveState=%s",
				sd.Show("musicfs.service", "NRestarts"), sd.Show("musicfs.service", "ActiveState"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := sd.Show("musicfs.service", "MainPID"); got == mainPID {
		t.Errorf("MainPID unchanged after restart: %s", got)
	}

	if out, err := sd.Ctl("stop", "musicfs.service"); err != nil {
		t.Fatalf("stop: %v %s", err, out)
	}
	if got := sd.Show("musicfs.service", "Result"); got != "success" {
		t.Errorf("Result after stop = %q", got)
	}
	if c := sd.Console(); !strings.Contains(c, "child stopping") {
		t.Errorf("daemon was not stopped with SIGTERM:\n%s", c)
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, os.ErrNotExist)
}
