package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/fx"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/modules/origins"
)

// changeDeadline is how soon a change on the origin must show in the mount.
const changeDeadline = 2 * time.Second

// inodes maps every path under the mount to its inode number.
func inodes(t *testing.T, mp string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	err := filepath.Walk(mp, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(mp, p)
		out[rel] = fi.Sys().(*syscall.Stat_t).Ino
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A restart loads the persisted index: the same paths with the same inode
// numbers, before any rescan.
func TestRestartKeepsPathsAndInodes(t *testing.T) {
	d := startDaemon(t, writeLib(t, audiogen.StandardLibrary()))
	before := inodes(t, d.Mountpoint)
	d.Restart(t)
	after := inodes(t, d.Mountpoint)
	if len(after) != len(before) {
		t.Fatalf("%d paths after the restart, %d before", len(after), len(before))
	}
	for p, ino := range before {
		if after[p] != ino {
			t.Fatalf("%s: inode %d after the restart, %d before", p, after[p], ino)
		}
	}
}

// visible polls until the mount shows (or no longer shows) p.
func visible(t *testing.T, d *daemon, p string, want bool) {
	t.Helper()
	start := time.Now()
	mounttest.Eventually(t, changeDeadline, p, func() bool {
		_, err := os.Stat(d.Path(p))
		return (err == nil) == want
	})
	t.Logf("%s visible=%v after %v", p, want, time.Since(start).Round(time.Millisecond))
}

func writeTrack(t *testing.T, p string, tags audiogen.Tags) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := p + ".part"
	if err := os.WriteFile(tmp, audiogen.FLAC(tags, audiogen.FLACOptions{Seed: 7, Seconds: 0.1}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
}

// Changes on the origin show in the mount within 2 s, including where the
// kernel has cached the directory: add, re-tag, delete and rename a file,
// rename a directory.
func TestWatchShowsChanges(t *testing.T) {
	d := startDaemon(t, writeLib(t, audiogen.StandardLibrary()))
	// Warm the kernel's caches of the directories involved.
	inodes(t, d.Mountpoint)

	tags := audiogen.Tags{Title: "Fresh", Artist: "Watcher", Album: "Live", Year: 2026, Track: 1}
	writeTrack(t, filepath.Join(d.Lib, "Watcher/Live/01.flac"), tags)
	visible(t, d, "Artists/Watcher/Live (2026)/01 Fresh.flac", true)

	tags.Title = "Retagged"
	writeTrack(t, filepath.Join(d.Lib, "Watcher/Live/01.flac"), tags)
	visible(t, d, "Artists/Watcher/Live (2026)/01 Retagged.flac", true)
	visible(t, d, "Artists/Watcher/Live (2026)/01 Fresh.flac", false)

	if err := os.Rename(filepath.Join(d.Lib, "Watcher/Live/01.flac"), filepath.Join(d.Lib, "Watcher/Live/renamed.flac")); err != nil {
		t.Fatal(err)
	}
	visible(t, d, "Origins/lib/Watcher/Live/renamed.flac", true)
	visible(t, d, "Origins/lib/Watcher/Live/01.flac", false)

	if err := os.Rename(filepath.Join(d.Lib, "Watcher"), filepath.Join(d.Lib, "Moved")); err != nil {
		t.Fatal(err)
	}
	visible(t, d, "Origins/lib/Moved/Live/renamed.flac", true)
	visible(t, d, "Origins/lib/Watcher", false)

	if err := os.Remove(filepath.Join(d.Lib, "Moved/Live/renamed.flac")); err != nil {
		t.Fatal(err)
	}
	visible(t, d, "Origins/lib/Moved/Live/renamed.flac", false)
	visible(t, d, "Artists/Watcher", false)
}

// countTracks is how many audio files the mount lists under Artists/.
func countTracks(t *testing.T, d *daemon) int {
	t.Helper()
	return len(walkFiles(t, d.Mountpoint, "Artists"))
}

// An origin that goes away (unreadable, renamed, replaced by an empty
// directory or by a file) keeps its tracks listed; when it is back, changes made
// meanwhile appear.
func TestOfflineOriginKeepsTracks(t *testing.T) {
	lib := writeLib(t, audiogen.StandardLibrary())
	var f *faults.Flaky
	d := startDaemon(t, lib, fx.Decorate(func(s origins.Set) origins.Set {
		f = faults.NewFlaky(s, 0, 0)
		return f
	}))
	want := countTracks(t, d)
	aside := lib + ".aside"
	check := func(what string) {
		t.Helper()
		d.Index.Rescan()
		mounttest.Eventually(t, 5*time.Second, "rescan of "+what, func() bool { return !d.Index.Stats().Scanning })
		time.Sleep(300 * time.Millisecond) // let a wrong swap happen, if one would
		if n := countTracks(t, d); n != want {
			t.Fatalf("%s: %d tracks listed, want %d", what, n, want)
		}
	}

	// Root can read anything, so "unreadable" is an origin whose every
	// call fails, as a NAS answering EACCES or EIO does.
	f.SetOffline(true)
	check("origin unreadable")
	f.SetOffline(false)

	if err := os.Rename(lib, aside); err != nil {
		t.Fatal(err)
	}
	check("origin renamed away")

	if err := os.Mkdir(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	check("origin replaced by an empty directory")

	if err := os.Remove(lib); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lib, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	check("origin replaced by a file")
	if err := os.Remove(lib); err != nil {
		t.Fatal(err)
	}

	// Meanwhile, one album is deleted and a track added.
	if err := os.RemoveAll(filepath.Join(aside, "John Coltrane")); err != nil {
		t.Fatal(err)
	}
	writeTrack(t, filepath.Join(aside, "Back/Again/01.flac"), audiogen.Tags{Title: "Returned", Artist: "Back", Album: "Again", Track: 1})
	if err := os.Rename(aside, lib); err != nil {
		t.Fatal(err)
	}
	d.Index.Rescan()
	visible(t, d, "Artists/Back/Again/01 Returned.flac", true)
	visible(t, d, "Artists/John Coltrane", false)
}

// enospcBackend is an inotify backend whose watches all fail as when
// fs.inotify.max_user_watches is reached.
type enospcBackend struct {
	events chan fsnotify.Event
	errs   chan error
}

func (b enospcBackend) Add(string) error              { return syscall.ENOSPC }
func (b enospcBackend) Remove(string) error           { return nil }
func (b enospcBackend) Events() <-chan fsnotify.Event { return b.events }
func (b enospcBackend) Errors() <-chan error          { return b.errs }
func (b enospcBackend) Close() error                  { return nil }

// Hitting the inotify limit falls back to periodic rescans, with a warning.
func TestWatchLimitFallsBackToRescans(t *testing.T) {
	d := startDaemon(t, writeLib(t, audiogen.StandardLibrary()),
		fx.Provide(func() origins.Backend { return enospcBackend{make(chan fsnotify.Event), make(chan error)} }),
		configure(func(c *app.Config) {
			c.Origins.Origins[0].RescanInterval = 300 * time.Millisecond
		}))
	mounttest.Eventually(t, 5*time.Second, "a warning about the watch limit", func() bool {
		return d.Logs.FilterMessageSnippet("max_user_watches").Len() > 0 ||
			d.Logs.FilterFieldKey("sysctl").Len() > 0
	})
	writeTrack(t, filepath.Join(d.Lib, "Polled/Album/01.flac"), audiogen.Tags{Title: "Polled", Artist: "Polled", Album: "Album", Track: 1})
	visible(t, d, "Artists/Polled/Album/01 Polled.flac", true)
}

// A corrupt index store is moved aside and rebuilt; the daemon serves.
func TestCorruptIndexStore(t *testing.T) {
	lib := writeLib(t, audiogen.StandardLibrary())
	d := startDaemon(t, lib)
	want := countTracks(t, d)
	d.App.RequireStop()
	db := filepath.Join(d.Config.Index.StateDir, "index.db")
	if err := os.WriteFile(db, []byte(strings.Repeat("not a bbolt file ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Launch(t)
	if n := countTracks(t, d); n != want {
		t.Fatalf("%d tracks after rebuilding the store, want %d", n, want)
	}
	aside, _ := filepath.Glob(db + ".corrupt-*")
	if len(aside) != 1 {
		t.Fatalf("corrupt store not moved aside: %q", aside)
	}
}
