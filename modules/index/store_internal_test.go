package index

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/musicfs/musicfs/modules/origins"
)

// Only evidence of a damaged file sends the store aside; a lock held by
// another process or an I/O or permission error must leave it alone.
func TestIsCorrupt(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("open x: %w", berrors.ErrInvalid), true},
		{fmt.Errorf("open x: %w", berrors.ErrChecksum), true},
		{fmt.Errorf("open x: %w", berrors.ErrVersionMismatch), true},
		{fmt.Errorf("load x: record %q: %w", "k", errDecode), true},
		{fmt.Errorf("read x: %w", errCorrupt), true},
		{fmt.Errorf("open x: %w", errors.New("file size too small 5000")), true},
		{fmt.Errorf("open x: %w", berrors.ErrTimeout), false},
		{fmt.Errorf("open x: %w", &fs.PathError{Op: "open", Path: "x", Err: syscall.EACCES}), false},
		{fmt.Errorf("open x: %w", &fs.PathError{Op: "read", Path: "x", Err: syscall.EIO}), false},
		{fmt.Errorf("write x: %w", syscall.ENOSPC), false},
	}
	for _, tt := range tests {
		if got := isCorrupt(tt.err); got != tt.want {
			t.Errorf("isCorrupt(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// A damaged "files" count (bbolt does not checksum data pages) must not size
// an allocation: a huge value was a fatal out-of-memory at every start.
func TestDamagedFilesCount(t *testing.T) {
	for _, n := range []uint64{1 << 42, math.MaxUint64} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "index.db")
			s, _, err := openStore(path, newInterner(0), zaptest.NewLogger(t), storeLockQuiet)
			if err != nil {
				t.Fatal(err)
			}
			ts := syntheticTracks("lib", 10)
			if err := s.write(batch{puts: ts}); err != nil {
				t.Fatal(err)
			}
			if err := s.db.Update(func(tx *bolt.Tx) error {
				return tx.Bucket(bucketMeta).Put(keyFiles, binary.AppendUvarint(nil, n))
			}); err != nil {
				t.Fatal(err)
			}
			s.close()
			s, l, err := openStore(path, newInterner(0), zaptest.NewLogger(t), storeLockQuiet)
			if err != nil {
				t.Fatal(err)
			}
			defer s.close()
			if len(l.tracks) != 10 || l.files < 0 || cap(l.tracks) > 1<<20 {
				t.Fatalf("loaded %d tracks (cap %d), files %d", len(l.tracks), cap(l.tracks), l.files)
			}
		})
	}
}

// Modification times outside UnixNano's range (1678–2262), such as the
// SMB/NTFS zero date 1601, survive the store.
func TestModTimeRoundTrip(t *testing.T) {
	for _, mt := range []time.Time{
		{},
		time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1601, 1, 1, 0, 0, 0, 100, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Unix(0, 0),
		time.Unix(1_700_000_000, 123_456_789),
		time.Date(2300, 6, 1, 12, 0, 0, 5, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
	} {
		in := &Track{Origin: "lib", RelPath: "a.flac", Size: 7, ModTime: mt, Audio: true}
		v := appendValue(nil, in, false)
		var out Track
		d := decoder{in: newInterner(0)}
		if _, err := d.decode(appendKey(nil, in.Origin, in.RelPath), v, &out); err != nil {
			t.Fatalf("%v: %v", mt, err)
		}
		if !out.ModTime.Equal(mt) || out.ModTime.IsZero() != mt.IsZero() {
			t.Errorf("ModTime %v came back as %v", mt, out.ModTime)
		}
	}
}

// A bbolt panic while writing (a damaged page met at runtime) is a failed
// write: the records stay in memory and are published, the scan completes
// instead of being retried forever, and it is logged once.
func TestStoreWritePanicIsAFailedWrite(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "new.mp3"), []byte("ID3 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	writeSynthetic(t, state, syntheticTracks("lib", 500)) // enough for pages of their own
	core, logs := observer.New(zapcore.InfoLevel)
	log := zap.New(zapcore.NewTee(core, zaptest.NewLogger(t).Core()))
	lib := origins.NewLocal(origins.OriginConfig{Name: "lib", Path: root}, time.Second, log)
	ix, err := New(Params{Config: Config{StateDir: state}, Origins: fixedSet{lib}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := ix.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer ix.Stop(context.Background())
	if n := len(ix.Tracks()); n != 500 {
		t.Fatalf("loaded %d", n)
	}

	// Damage the tracks bucket's root page under the open store: bbolt panics
	// ("invalid page type") at the next write that looks it up.
	var rootPage uint64
	if err := ix.st.db.View(func(tx *bolt.Tx) error {
		rootPage = uint64(tx.Bucket(bucketTracks).Root())
		return nil
	}); err != nil || rootPage == 0 {
		t.Fatalf("tracks bucket root page %d: %v", rootPage, err)
	}
	f, err := os.OpenFile(filepath.Join(state, "index.db"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte{0, 0}, int64(rootPage)*int64(ix.st.db.Info().PageSize)+8); err != nil {
		t.Fatal(err)
	}
	f.Close()

	ix.StartScanning()
	select {
	case <-ix.Scanned():
	case <-time.After(5 * time.Second):
		t.Fatalf("scan not completed with a store whose writes panic: stats %+v", ix.Stats())
	}
	if got := ix.Tracks(); len(got) != 1 || got[0].RelPath != "new.mp3" {
		t.Fatalf("after the scan: %d records", len(got))
	}
	if err := os.WriteFile(filepath.Join(root, "newer.mp3"), []byte("ID3 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	ix.Refresh("lib", []string{"newer.mp3"})
	deadline := time.Now().Add(5 * time.Second)
	for len(ix.Tracks()) != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("refresh not published with a store whose writes panic: %d records", len(ix.Tracks()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := logs.FilterMessageSnippet("index store not written").FilterLevelExact(zapcore.ErrorLevel).Len(); n != 1 {
		t.Fatalf("%d 'not written' logs, want 1", n)
	}
}
