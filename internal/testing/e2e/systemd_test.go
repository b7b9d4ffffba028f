package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/internal/testing/sdtest"
)

// (f) The shipped unit under a real systemd: active only once READY (the
// mount serves as soon as `systemctl start` returns), a clean stop leaves no
// mount, and after kill -9 ExecStopPost removes the dead mount and Restart
// brings the service back.
func TestShippedUnitUnderSystemd(t *testing.T) {
	mounttest.RequireFUSE(t)
	lib := writeLib(t, audiogen.StandardLibrary())
	mp := filepath.Join(t.TempDir(), "music")
	cfg := filepath.Join(t.TempDir(), "musicfs.yaml")
	body := fmt.Sprintf("mountpoint: %s\nstate_dir: %s\ncache:\n  dir: %s\norigins:\n  - name: lib\n    path: %s\n",
		mp, t.TempDir(), t.TempDir(), lib)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile("../../../dist/musicfs.service")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		"/usr/bin/musicfs --config /etc/musicfs.yaml", mounttest.Binary(t)+" --config "+cfg,
		"fusermount3 -uz /srv/music", "fusermount3 -uz "+mp,
	).Replace(string(unit))
	if text == string(unit) || !strings.Contains(text, cfg) || !strings.Contains(text, mp) {
		t.Fatal("could not substitute the unit's paths")
	}
	units := t.TempDir()
	if err := os.WriteFile(filepath.Join(units, "musicfs.service"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	removeIfCreated(t, "/var/lib/musicfs", "/var/cache/musicfs") // StateDirectory=, CacheDirectory=

	sd := sdtest.Boot(t, units)
	defer func() {
		if t.Failed() {
			t.Logf("console:\n%s", sd.Console())
		}
	}()
	inner := func(p string) string { return filepath.Join(sd.Root(), p) }
	song := inner(filepath.Join(mp, "Origins/lib/John Coltrane/Blue Train/01 Blue Train.flac"))

	// Type=notify: start returns only after READY=1, which comes only once
	// the mount serves; so it serves the moment start returns.
	if out, err := sd.Ctl("start", "musicfs.service"); err != nil {
		t.Fatalf("start: %v\n%s", err, out)
	}
	if st := sd.Show("musicfs.service", "ActiveState"); st != "active" {
		t.Fatalf("ActiveState %s after start", st)
	}
	if n := mountsAt(t, sd, mp); n != 1 {
		t.Fatalf("%d mounts at %s right after start, want 1", n, mp)
	}
	mounttest.Eventually(t, 10*time.Second, "the library in the mount", func() bool {
		_, err := os.Stat(song)
		return err == nil
	})
	if status := sd.Show("musicfs.service", "StatusText"); !strings.Contains(status, "tracks") {
		t.Errorf("StatusText %q", status)
	}

	// A clean stop: no mount left, Result=success.
	if out, err := sd.Ctl("stop", "musicfs.service"); err != nil {
		t.Fatalf("stop: %v\n%s", err, out)
	}
	if r := sd.Show("musicfs.service", "Result"); r != "success" {
		t.Fatalf("Result=%s after stop", r)
	}
	if n := mountsAt(t, sd, mp); n != 0 {
		t.Fatalf("%d mounts left after stop", n)
	}

	// kill -9 of the main process: ExecStopPost detaches the dead mount and
	// Restart=on-failure brings the service back.
	if out, err := sd.Ctl("start", "musicfs.service"); err != nil {
		t.Fatalf("start again: %v\n%s", err, out)
	}
	pid := sd.Show("musicfs.service", "MainPID")
	if out, err := sd.Exec("kill", "-9", pid); err != nil {
		t.Fatalf("kill: %v\n%s", err, out)
	}
	mounttest.Eventually(t, 15*time.Second, "a restart after kill -9", func() bool {
		return sd.Show("musicfs.service", "NRestarts") == "1" && sd.Show("musicfs.service", "ActiveState") == "active"
	})
	if newPID := sd.Show("musicfs.service", "MainPID"); newPID == pid {
		t.Fatal("same MainPID after the restart")
	}
	if n := mountsAt(t, sd, mp); n != 1 {
		t.Fatalf("%d mounts at %s after the restart, want exactly 1 (the dead one removed)", n, mp)
	}
	mounttest.Eventually(t, 10*time.Second, "files readable after the restart", func() bool {
		b, err := os.ReadFile(song)
		return err == nil && len(b) > 0
	})
	if strings.Contains(sd.Console(), "removed stale mount") {
		t.Error("the janitor found a stale mount: ExecStopPost did not remove it")
	}
	if out, err := sd.Ctl("stop", "musicfs.service"); err != nil {
		t.Fatalf("final stop: %v\n%s", err, out)
	}
	if n := mountsAt(t, sd, mp); n != 0 {
		t.Fatalf("%d mounts left after the final stop", n)
	}
}

// mountsAt counts the mounts at mp in the instance's mount namespace.
func mountsAt(t *testing.T, sd *sdtest.Systemd, mp string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/mountinfo", sd.PID()))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == mp {
			n++
		}
	}
	return n
}

// removeIfCreated removes dirs at the end of the test unless they existed
// before it.
func removeIfCreated(t *testing.T, dirs ...string) {
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			continue
		}
		t.Cleanup(func() { os.RemoveAll(d) })
	}
}
