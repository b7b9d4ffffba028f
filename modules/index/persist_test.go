package index_test

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap/zapcore"

	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
)

// smallLibrary is a few tagged and untagged files in two directories.
func smallLibrary() map[string][]byte {
	return map[string][]byte{
		"pf/wall/01.flac":   flac(wallTags),
		"pf/wall/02.mp3":    mp3(3, wallTags),
		"bjork/joga.flac":   flac(unicodeTags),
		"pf/wall/cover.jpg": []byte("jpeg"),
		"broken.mp3":        []byte("not audio"),
	}
}

// summary renders the records for comparison across restarts.
func summary(ts []*index.Track) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s/%s %d %d %v %v %v %s", t.Origin, t.RelPath, t.Size,
			t.ModTime.UnixNano(), t.Audio, t.Tagged, t.Untagged, tagLine(t)))
	}
	slices.Sort(out)
	return out
}

func stateCfg(dir string) *index.Config { return &index.Config{StateDir: dir} }

func TestPersistedRestart(t *testing.T) {
	root, state := t.TempDir(), filepath.Join(t.TempDir(), "state")
	writeLibrary(t, root, smallLibrary())
	e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	e.waitScanned(t, 10*time.Second)
	before := summary(e.ix.Tracks())
	e.stop()
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: %v %v, want mode 0700", fi.Mode(), err)
	}

	f := &faults{}
	e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state),
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} }})
	// Start returned: the records are there before any scan.
	if got := summary(e.ix.Tracks()); !slices.Equal(got, before) {
		t.Fatalf("after restart:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(before, "\n"))
	}
	time.Sleep(200 * time.Millisecond)
	if w, o := f.walks.Load(), f.openedAny(); w != 0 || o != 0 || e.ix.Stats().Scanning {
		t.Fatalf("before StartScanning: %d walks, %d opens, stats %+v; want no scan", w, o, e.ix.Stats())
	}
	select {
	case <-e.ix.Scanned():
		t.Fatal("Scanned closed before StartScanning")
	default:
	}

	e.ix.StartScanning()
	e.ix.StartScanning() // idempotent
	e.waitScanned(t, 10*time.Second)
	if w, o := f.walks.Load(), f.openedAny(); w != 1 || o != 0 {
		t.Fatalf("rescan after restart: %d walks, %d opens; want 1 walk, no file re-read", w, o)
	}
	if got := summary(e.ix.Tracks()); !slices.Equal(got, before) {
		t.Fatalf("after the rescan:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(before, "\n"))
	}
	files, total, _ := e.ix.Progress()
	if files != len(before) || total != len(before) {
		t.Fatalf("Progress() = %d of %d, want %d of %d (the last complete scan's count)", files, total, len(before), len(before))
	}
}

// A damaged store is moved aside with an error log naming both paths, and
// the index is rebuilt by a full scan.
func TestUnreadableStoreIsMovedAside(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, db string)
	}{
		{"garbage", func(t *testing.T, db string) {
			if err := os.WriteFile(db, []byte(strings.Repeat("not a bbolt file ", 1000)), 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"truncated", func(t *testing.T, db string) {
			if err := os.Truncate(db, 3*4096); err != nil {
				t.Fatal(err)
			}
		}},
		{"bad record", func(t *testing.T, db string) {
			editStore(t, db, func(tx *bolt.Tx) error {
				return tx.Bucket([]byte("tracks")).Put([]byte("lib\x00x.flac"), []byte{0xff})
			})
		}},
		{"shorter than two pages", func(t *testing.T, db string) {
			if err := os.Truncate(db, 4096+100); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, state := t.TempDir(), t.TempDir()
			writeLibrary(t, root, smallLibrary())
			e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
			e.waitScanned(t, 10*time.Second)
			want := summary(e.ix.Tracks())
			e.stop()
			db := filepath.Join(state, "index.db")
			tt.damage(t, db)
			damaged, _ := os.ReadFile(db)

			e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
			logs := e.logs.FilterMessageSnippet("moved aside").FilterLevelExact(zapcore.ErrorLevel).All()
			if len(logs) != 1 {
				t.Fatalf("%d 'moved aside' error logs, want 1", len(logs))
			}
			f := logs[0].ContextMap()
			aside, _ := f["moved_to"].(string)
			if f["path"] != db || !strings.HasPrefix(aside, db+".corrupt-") {
				t.Fatalf("log fields %v", f)
			}
			if got, err := os.ReadFile(aside); err != nil || string(got) != string(damaged) {
				t.Fatalf("moved-aside file: %v (same content: %v)", err, string(got) == string(damaged))
			}
			e.waitScanned(t, 10*time.Second) // rebuilt by a scan started in Start
			if got := summary(e.ix.Tracks()); !slices.Equal(got, want) {
				t.Fatalf("rebuilt: %v", got)
			}
			e.stop()

			// The rebuilt store is used next time.
			e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
			if got := summary(e.ix.Tracks()); !slices.Equal(got, want) {
				t.Fatalf("after the rebuild and a restart: %v", got)
			}
			if n := e.logs.FilterMessageSnippet("moved aside").Len(); n != 0 {
				t.Fatal("the rebuilt store was moved aside again")
			}
		})
	}
}

// editStore changes a stopped index's store directly.
func editStore(t *testing.T, db string, fn func(*bolt.Tx) error) {
	t.Helper()
	h, err := bolt.Open(db, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if err := h.Update(fn); err != nil {
		t.Fatal(err)
	}
}

func TestOtherSchemaVersionIsRebuilt(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	writeLibrary(t, root, smallLibrary())
	e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	e.waitScanned(t, 10*time.Second)
	want := summary(e.ix.Tracks())
	e.stop()
	db := filepath.Join(state, "index.db")
	editStore(t, db, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("version"), binary.BigEndian.AppendUint32(nil, 99))
	})

	f := &faults{}
	e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state),
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} }})
	if e.logs.FilterMessageSnippet("another schema version").FilterField(zapcore.Field{Key: "found", Type: zapcore.StringType, String: "99"}).Len() != 1 {
		t.Fatal("version mismatch not logged")
	}
	e.waitScanned(t, 10*time.Second)
	if got := summary(e.ix.Tracks()); !slices.Equal(got, want) {
		t.Fatalf("rebuilt: %v", got)
	}
	if f.opened("pf/wall/01.flac") != 1 {
		t.Fatal("records of the old version were used instead of reading the tags again")
	}
	if matches, _ := filepath.Glob(db + ".corrupt-*"); len(matches) != 0 {
		t.Fatalf("a store of another version was treated as corrupt: %v", matches)
	}
}

// Stop in the middle of a first scan persists what the scan found, even
// before its first batch was published; the next start goes on from there.
func TestStopPersistsScanInProgress(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	writeLibrary(t, root, killLibrary())
	f := &faults{delay: 5 * time.Millisecond}
	e := start(t, map[string]string{"lib": root}, envOpt{
		cfg:      &index.Config{StateDir: state, Workers: 2},
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	waitFor(t, 5*time.Second, "50 files scanned", func() bool { files, _, _ := e.ix.Progress(); return files >= 50 })
	e.stop()
	files, _, _ := e.ix.Progress()
	if files >= killFiles {
		t.Fatalf("scan finished before Stop (%d files)", files)
	}

	e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	if n := len(e.ix.Tracks()); n < files {
		t.Fatalf("%d records after Stop mid-scan, want the %d scanned", n, files)
	}
	e.ix.StartScanning()
	e.waitScanned(t, 10*time.Second)
	if n := len(e.byPath()); n != killFiles {
		t.Fatalf("%d records after the next scan, want %d", n, killFiles)
	}
}

// A store locked by another process (the previous daemon still exiting) is
// waited for; if it stays locked, Start fails naming the file and the
// reason, and the store is left as it is: never moved aside, so the library
// is not shown empty.
func TestLockedStore(t *testing.T) {
	for _, released := range []bool{true, false} {
		t.Run(map[bool]string{true: "released while waiting", false: "still locked"}[released], func(t *testing.T) {
			parent, state := t.TempDir(), t.TempDir()
			root := filepath.Join(parent, "lib")
			writeLibrary(t, root, smallLibrary())
			e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
			e.waitScanned(t, 10*time.Second)
			want := summary(e.ix.Tracks())
			e.stop()
			db := filepath.Join(state, "index.db")
			before, _ := os.ReadFile(db)

			held, err := bolt.Open(db, 0o600, nil) // the old process
			if err != nil {
				t.Fatal(err)
			}
			// Waiting is logged after a quiet second.
			wait := 1500 * time.Millisecond
			if released {
				wait = 5 * time.Second
				time.AfterFunc(1200*time.Millisecond, func() { held.Close() })
			} else {
				defer held.Close()
			}
			if err := os.Rename(root, root+".away"); err != nil { // NAS offline meanwhile
				t.Fatal(err)
			}
			var startErr error
			began := time.Now()
			e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state), startErr: &startErr,
				tweak: func(ix *index.Index) { index.SetStoreLockWait(ix, wait) }})
			t.Logf("Start returned after %v: %v", time.Since(began), startErr)
			if n := e.logs.FilterMessageSnippet("waiting").FilterLevelExact(zapcore.WarnLevel).Len(); n != 1 {
				t.Errorf("%d 'waiting' logs, want 1", n)
			}
			if matches, _ := filepath.Glob(db + ".corrupt-*"); len(matches) != 0 {
				t.Fatalf("a locked store was moved aside: %v", matches)
			}
			if released {
				if startErr != nil {
					t.Fatalf("Start: %v", startErr)
				}
				if got := summary(e.ix.Tracks()); !slices.Equal(got, want) {
					t.Fatalf("after waiting for the lock: %v, want %v", got, want)
				}
				return
			}
			if startErr == nil || !strings.Contains(startErr.Error(), db) || !strings.Contains(startErr.Error(), "locked") {
				t.Fatalf("Start error %v, want one naming %s and the lock", startErr, db)
			}
			if after, _ := os.ReadFile(db); string(after) != string(before) {
				t.Fatal("the locked store was changed")
			}
		})
	}
}

// A store that cannot be opened for a reason other than damage (permission,
// I/O, a directory in its place) fails Start with an error naming it, and is
// left untouched.
func TestUnusableStoreFailsStart(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, state string) (path string)
	}{
		{"index.db is a directory", func(t *testing.T, state string) string {
			db := filepath.Join(state, "index.db")
			if err := os.MkdirAll(filepath.Join(db, "keep"), 0o700); err != nil {
				t.Fatal(err)
			}
			return db
		}},
		{"state dir is a file", func(t *testing.T, state string) string {
			if err := os.WriteFile(state, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			return state
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, state := t.TempDir(), filepath.Join(t.TempDir(), "state")
			writeLibrary(t, root, smallLibrary())
			path := tt.setup(t, state)
			var startErr error
			start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state), startErr: &startErr})
			if startErr == nil || !strings.Contains(startErr.Error(), path) {
				t.Fatalf("Start error %v, want one naming %s", startErr, path)
			}
			if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), "*.corrupt-*")); len(matches) != 0 {
				t.Fatalf("moved aside: %v", matches)
			}
			if _, err := os.Stat(path); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
		})
	}
}

// A store of the previous schema (ModTime as Unix ns) is rebuilt, not read
// with the new codec.
func TestPreviousSchemaVersionIsRebuilt(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	writeLibrary(t, root, smallLibrary())
	e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	e.waitScanned(t, 10*time.Second)
	want := summary(e.ix.Tracks())
	e.stop()
	editStore(t, filepath.Join(state, "index.db"), func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("version"), binary.BigEndian.AppendUint32(nil, 1))
	})
	e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
	if e.logs.FilterMessageSnippet("another schema version").FilterField(zapcore.Field{Key: "found", Type: zapcore.StringType, String: "1"}).Len() != 1 {
		t.Fatal("version 1 not rebuilt")
	}
	e.waitScanned(t, 10*time.Second)
	if got := summary(e.ix.Tracks()); !slices.Equal(got, want) {
		t.Fatalf("rebuilt: %v", got)
	}
}

// Files dated outside UnixNano's range (1678–2262: the SMB/NTFS zero date
// 1601, or a far-future date) keep their records across a restart: their
// tags are not read again by the reconcile scan.
func TestOutOfRangeModTimeSurvivesRestart(t *testing.T) {
	for _, mt := range []time.Time{
		time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2300, 6, 1, 12, 0, 0, 0, time.UTC),
	} {
		t.Run(fmt.Sprint(mt.Year()), func(t *testing.T) {
			root, state := t.TempDir(), t.TempDir()
			writeAt(t, root, "old.flac", flac(wallTags), mt)
			if fi, err := os.Stat(filepath.Join(root, "old.flac")); err != nil || !fi.ModTime().Equal(mt) {
				t.Skipf("the file system does not keep this mtime: %v", err)
			}
			e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state)})
			e.waitScanned(t, 10*time.Second)
			e.stop()
			f := &faults{}
			e = start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state),
				decorate: func(s origins.Set) origins.Set { return faultySet{s, f} }})
			if tr := e.byPath()["lib/old.flac"]; tr == nil || !tr.ModTime.Equal(mt) {
				t.Fatalf("loaded record %+v", tr)
			}
			e.ix.StartScanning()
			e.waitScanned(t, 10*time.Second)
			if n := f.opened("old.flac"); n != 0 {
				t.Fatalf("unchanged old.flac read again %d times after a restart", n)
			}
		})
	}
}
