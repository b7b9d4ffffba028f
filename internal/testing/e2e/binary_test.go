package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/daemontest"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// run starts the musicfs binary with args (see daemontest.Start).
func run(t *testing.T, env []string, args ...string) *daemontest.Proc {
	t.Helper()
	return daemontest.Start(t, env, args...)
}

// mountArgs returns the flags for a daemon of lib on a fresh mountpoint.
func mountArgs(t *testing.T, lib string) (mp string, args []string) {
	mp = filepath.Join(t.TempDir(), "music")
	mounttest.CleanupMount(t, mp)
	return mp, []string{"--mountpoint", mp, "--origin", "lib=" + lib,
		"--state-dir", t.TempDir(), "--cache-dir", t.TempDir()}
}

// bigLib is the standard library plus one large file to stream.
func bigLib(t *testing.T) (lib, big string) {
	t.Helper()
	lib = writeLib(t, audiogen.StandardLibrary())
	big = "stream.bin"
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20) // 64 MiB
	if err := os.WriteFile(filepath.Join(lib, big), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return lib, big
}

// (a) SIGTERM and SIGINT while a reader streams a file: exit 0 within 2 s,
// mountpoint gone, the reader gets an error rather than a hang.
func TestSignalWhileStreaming(t *testing.T) {
	mounttest.RequireFUSE(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			lib, big := bigLib(t)
			mp, args := mountArgs(t, lib)
			p := run(t, nil, args...)
			p.WaitReady(t, 10*time.Second)
			waitFile(t, filepath.Join(mp, "Origins/lib", big))

			// O_DIRECT so every read is a FUSE request, as for a stream
			// larger than the page cache.
			f, err := os.OpenFile(filepath.Join(mp, "Origins/lib", big), os.O_RDONLY|syscall.O_DIRECT, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			streaming := make(chan struct{})
			readErr := make(chan error, 1)
			go func() {
				buf := make([]byte, 128<<10)
				for off := int64(0); ; off = (off + int64(len(buf))) % (64 << 20) {
					if _, err := f.ReadAt(buf, off); err != nil {
						readErr <- err
						return
					}
					if off == 0 {
						select {
						case <-streaming:
						default:
							close(streaming)
						}
					}
				}
			}()
			<-streaming

			start := time.Now()
			p.Signal(t, sig)
			if code := p.Wait(t, 2*time.Second); code != 0 {
				t.Fatalf("exit code %d, want 0\n%s", code, p.Output())
			}
			t.Logf("exited %v after %v", sig, time.Since(start))
			if mounttest.Mounted(mp) {
				t.Fatal("mountpoint still in mountinfo after exit")
			}
			select {
			case err := <-readErr:
				t.Logf("reader got: %v", err)
			case <-time.After(2 * time.Second):
				t.Fatal("reader hangs after the daemon stopped")
			}
			if !p.Notify.Seen("STOPPING=1") {
				t.Fatal("no STOPPING=1")
			}
		})
	}
}

// (d) kill -9: the next start cleans the dead mount and serves within 3 s;
// a second daemon on a live mount exits non-zero naming the mountpoint and
// the first keeps serving.
func TestKill9ThenRestartAndSecondDaemon(t *testing.T) {
	mounttest.RequireFUSE(t)
	lib := writeLib(t, audiogen.StandardLibrary())
	mp, args := mountArgs(t, lib)
	song := filepath.Join(mp, "Artists/John Coltrane/Blue Train (1957)/01 Blue Train.flac")

	first := run(t, nil, args...)
	first.WaitReady(t, 10*time.Second)
	waitFile(t, song)
	inoBefore := inode(t, song)
	if err := first.Cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	first.Wait(t, 5*time.Second)
	var st syscall.Statfs_t
	if err := syscall.Statfs(mp, &st); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("after kill -9, statfs of the mountpoint: %v, want ENOTCONN (a dead mount)", err)
	}

	start := time.Now()
	second := run(t, nil, args...)
	second.WaitReady(t, 3*time.Second)
	mounttest.Eventually(t, 3*time.Second-time.Since(start), "the restarted daemon to serve files", func() bool {
		_, err := os.Stat(song)
		return err == nil
	})
	t.Logf("restart after kill -9 served in %v", time.Since(start))
	if ino := inode(t, song); ino != inoBefore {
		t.Errorf("inode of %s changed across the restart: %d, then %d", song, inoBefore, ino)
	}
	if !strings.Contains(second.Output(), "removed stale mount") {
		t.Errorf("no log of the stale mount cleanup:\n%s", second.Output())
	}

	third := run(t, nil, args...)
	if code := third.Wait(t, 10*time.Second); code == 0 {
		t.Fatal("a second daemon on a live mount exited 0")
	}
	if !strings.Contains(third.Output(), mp) {
		t.Fatalf("the refusal does not name the mountpoint:\n%s", third.Output())
	}
	if third.Notify.Seen("READY=1") {
		t.Fatal("the refused daemon sent READY=1")
	}
	if _, err := os.ReadFile(song); err != nil {
		t.Fatalf("first daemon stopped serving: %v", err)
	}
	second.Signal(t, syscall.SIGTERM)
	if code := second.Wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// (e) READY=1 only once the mount serves, STATUS=, WATCHDOG=1 when
// WATCHDOG_USEC is set, STOPPING=1 on shutdown.
func TestSystemdNotifyProtocol(t *testing.T) {
	mounttest.RequireFUSE(t)
	mp, args := mountArgs(t, writeLib(t, audiogen.StandardLibrary()))
	p := run(t, []string{"WATCHDOG_USEC=400000"}, args...)
	p.WaitReady(t, 10*time.Second)
	// The mount must already serve when READY arrives.
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(mp, &sfs); err != nil || sfs.Type != 0x65735546 {
		t.Fatalf("READY=1 sent before the mount served: statfs %v type %x", err, sfs.Type)
	}
	msgs := p.Notify.Messages()
	if i := indexOf(msgs, "READY=1"); i < 0 || !strings.HasPrefix(strings.Join(msgs, "\n"), "") {
		t.Fatalf("messages %q", msgs)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	status, err := p.Notify.Wait(ctx, "STATUS=")
	if err != nil || !strings.Contains(status, "tracks") {
		t.Fatalf("STATUS: %q %v", status, err)
	}
	if err := p.Notify.WaitCount(ctx, "WATCHDOG=1", 2); err != nil {
		t.Fatalf("WATCHDOG=1: %v (messages %q)", err, p.Notify.Messages())
	}
	if p.Notify.Seen("STOPPING=1") {
		t.Fatal("STOPPING=1 before shutdown")
	}
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !p.Notify.Seen("STOPPING=1") {
		t.Fatalf("no STOPPING=1 in %q", p.Notify.Messages())
	}
}

func inode(t *testing.T, p string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// A mount removed from outside (umount by an operator or a tool) makes the
// daemon exit non-zero, so that systemd restarts it.
func TestExternalUnmountExitsNonZero(t *testing.T) {
	mounttest.RequireFUSE(t)
	mp, args := mountArgs(t, writeLib(t, audiogen.StandardLibrary()))
	p := run(t, nil, args...)
	p.WaitReady(t, 10*time.Second)
	if err := syscall.Unmount(mp, 0); err != nil {
		t.Fatal(err)
	}
	if code := p.Wait(t, 5*time.Second); code != 1 {
		t.Fatalf("exit code %d after an external unmount, want 1\n%s", code, p.Output())
	}
	if !strings.Contains(p.Output(), "mount removed from outside") {
		t.Fatalf("no log of the cause:\n%s", p.Output())
	}
}

// waitFile waits for the first scan to reach the mount.
func waitFile(t *testing.T, p string) {
	t.Helper()
	mounttest.Eventually(t, 10*time.Second, p, func() bool {
		_, err := os.Stat(p)
		return err == nil
	})
}

func indexOf(msgs []string, prefix string) int {
	for i, m := range msgs {
		if strings.HasPrefix(m, prefix) {
			return i
		}
	}
	return -1
}

// (g) Every kind of bad configuration: exit 2, a message naming the key, no
// mount, no READY.
func TestBadConfigExits2(t *testing.T) {
	lib := t.TempDir()
	notDir := filepath.Join(lib, "file.mp3")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeConfig := func(body string) string {
		p := filepath.Join(t.TempDir(), "musicfs.yaml")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		env  []string
		args func(mp string) []string
		key  string
	}{
		{"missing mountpoint", nil, func(string) []string { return []string{"--origin", "lib=" + lib} }, "mountpoint"},
		{"missing origins", nil, func(mp string) []string { return []string{"--mountpoint", mp} }, "origins"},
		{"origin not a directory", nil, func(mp string) []string { return []string{"--mountpoint", mp, "--origin", "lib=" + notDir} }, "origins[0].path"},
		{"unknown key", nil, func(mp string) []string {
			return []string{"--config", writeConfig("mountpoint: " + mp + "\norigins: [{name: lib, path: " + lib + "}]\nbogus_key: 1\n")}
		}, "bogus_key"},
		{"bad size", nil, func(mp string) []string {
			return []string{"--config", writeConfig("mountpoint: " + mp + "\norigins: [{name: lib, path: " + lib + "}]\ncache: {max_size: lots}\n")}
		}, "cache.max_size"},
		{"bad duration", nil, func(mp string) []string {
			return []string{"--config", writeConfig("mountpoint: " + mp + "\norigins: [{name: lib, path: " + lib + "}]\nread_timeout: soon\n")}
		}, "read_timeout"},
		{"bad env", []string{"MUSICFS_LOG__FORMAT=xml"}, func(mp string) []string {
			return []string{"--mountpoint", mp, "--origin", "lib=" + lib}
		}, "log.format"},
		{"unknown env key", []string{"MUSICFS_NOT_A_KEY=1"}, func(mp string) []string {
			return []string{"--mountpoint", mp, "--origin", "lib=" + lib}
		}, "not_a_key"},
		{"missing config file", nil, func(mp string) []string { return []string{"--config", filepath.Join(lib, "none.yaml")} }, "none.yaml"},
		{"unknown flag", nil, func(mp string) []string { return []string{"--mountpoint", mp, "--bogus"} }, "bogus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mp := filepath.Join(t.TempDir(), "music")
			p := run(t, tc.env, tc.args(mp)...)
			if code := p.Wait(t, 10*time.Second); code != 2 {
				t.Fatalf("exit code %d, want 2\n%s", code, p.Output())
			}
			if !strings.Contains(p.Output(), tc.key) {
				t.Fatalf("message does not name %q:\n%s", tc.key, p.Output())
			}
			if mounttest.Mounted(mp) || p.Notify.Seen("READY=1") {
				t.Fatal("bad config mounted or sent READY")
			}
		})
	}
}

func TestSubcommands(t *testing.T) {
	lib := t.TempDir()
	p := run(t, nil, "version")
	if code := p.Wait(t, 10*time.Second); code != 0 || !strings.HasPrefix(p.Output(), "musicfs ") {
		t.Fatalf("version: %d %q", code, p.Output())
	}
	cfg := filepath.Join(t.TempDir(), "ok.yaml")
	body := fmt.Sprintf("mountpoint: %s\norigins:\n  - name: lib\n    path: %s\n", filepath.Join(t.TempDir(), "m"), lib)
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	p = run(t, nil, "check-config", "--config", cfg)
	if code := p.Wait(t, 10*time.Second); code != 0 || !strings.Contains(p.Output(), "OK") {
		t.Fatalf("check-config of a good file: %d %q", code, p.Output())
	}
	if err := os.WriteFile(cfg, []byte(body+"mystery: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = run(t, nil, "check-config", "--config", cfg)
	if code := p.Wait(t, 10*time.Second); code != 2 || !strings.Contains(p.Output(), "mystery") {
		t.Fatalf("check-config of a bad file: %d %q", code, p.Output())
	}
}

// An origin that is missing at start (a NAS not mounted yet) is a warning,
// not a failure: the mount serves, STATUS= shows the origin offline, and a
// rescan once it is there picks it up.
func TestMissingOriginStartsOffline(t *testing.T) {
	mounttest.RequireFUSE(t)
	lib := filepath.Join(t.TempDir(), "nas")
	mp, args := mountArgs(t, lib)
	p := run(t, nil, args...)
	p.WaitReady(t, 10*time.Second)
	if status := p.Notify.Messages(); !strings.Contains(strings.Join(status, "\n"), "offline: lib") {
		t.Fatalf("STATUS does not show the origin offline: %q", status)
	}
	mounttest.Eventually(t, 5*time.Second, "a warning naming the offline origin", func() bool {
		return strings.Contains(p.Output(), "offline") && strings.Contains(p.Output(), lib)
	})
	if err := audiogen.WriteLibrary(lib, audiogen.StandardLibrary()); err != nil {
		t.Fatal(err)
	}
	p.Signal(t, syscall.SIGHUP)
	waitFile(t, filepath.Join(mp, "Artists/Björk/Homogenic (1997)/02 Jóga.flac"))
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// SIGHUP rescans: a file added to the origin appears without a restart.
func TestSIGHUPRescans(t *testing.T) {
	mounttest.RequireFUSE(t)
	lib := writeLib(t, audiogen.StandardLibrary())
	mp, args := mountArgs(t, lib)
	p := run(t, nil, args...)
	p.WaitReady(t, 10*time.Second)
	mounttest.Eventually(t, 5*time.Second, "first scan", func() bool {
		_, err := os.Stat(filepath.Join(mp, "Artists/Björk"))
		return err == nil
	})
	data := audiogen.FLAC(audiogen.Tags{Title: "Added Later", Artist: "Newcomer", Album: "Debut", Year: 2026, Track: 1}, audiogen.FLACOptions{Seed: 99, Seconds: 0.2})
	if err := os.WriteFile(filepath.Join(lib, "added.flac"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	p.Signal(t, syscall.SIGHUP)
	want := filepath.Join(mp, "Artists/Newcomer/Debut (2026)/01 Added Later.flac")
	mounttest.Eventually(t, 5*time.Second, "the added track after SIGHUP", func() bool {
		got, err := os.ReadFile(want)
		return err == nil && bytes.Equal(got, data)
	})
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, 5*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
