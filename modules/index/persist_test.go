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
		out = append(out, fmt.Sprintf("%s/%s %d %d %v %v %q %q %q %q %q %d %d %d %d", t.Origin, t.RelPath, t.Size,
			t.ModTime.UnixNano(), t.Audio, t.Tagged, t.Title, t.Artist, t.AlbumArtist, t.Album, t.Genre,
			t.Year, t.Track, t.Disc, t.DiscTotal))
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

// A store written by an interrupted scan, a damaged file, a file locked by
// another process: each is moved aside with an error log naming both paths,
// and the index is rebuilt by a full scan.
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
		{"locked", func(t *testing.T, db string) {
			h, err := bolt.Open(db, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { h.Close() })
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
