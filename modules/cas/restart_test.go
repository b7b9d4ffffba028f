package cas_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zeebo/blake3"
	bolt "go.etcd.io/bbolt"

	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
)

func chtimes(path string, t time.Time) error { return os.Chtimes(path, t, t) }

func TestRestartKeepsBlobsAndBlocks(t *testing.T) {
	cfg := testConfig(t)
	s, _ := startStore(t, cfg)
	whole, part := content(20, 7*bs+5), content(21, 9*bs)
	kw, kp := keyOf("nas", "whole", whole), keyOf("nas", "part", part)
	fetchAll(t, s, kw, newOrigin(whole))
	if err := s.Fetch(context.Background(), kp, newOrigin(part).open, 2*bs, 3*bs); err != nil {
		t.Fatal(err)
	}
	usage := s.Usage()
	stop(t, s)

	leftover := filepath.Join(cfg.Dir, "tmp", "fill-123")
	if err := os.WriteFile(leftover, []byte("half a block"), 0o600); err != nil {
		t.Fatal(err)
	}
	s2, reg := startStore(t, cfg)
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Fatalf("temp leftover survived Start: %v", err)
	}
	if _, complete := s2.Cached(kw); !complete {
		t.Fatal("complete track lost")
	}
	if present, _ := s2.Cached(kp); present != 3*bs {
		t.Fatalf("partial track has %d bytes, want %d", present, 3*bs)
	}
	if s2.Usage() != usage {
		t.Fatalf("usage %d after restart, %d before", s2.Usage(), usage)
	}
	off := newOrigin(nil)
	off.offline.Store(true)
	mustReadAll(t, open(t, s2, kw, off), whole)
	p := make([]byte, 3*bs)
	if n, err := open(t, s2, kp, off).ReadAt(t.Context(), p, 2*bs); err != nil || !bytes.Equal(p[:n], part[2*bs:5*bs]) {
		t.Fatalf("present blocks after restart: %d, %v", n, err)
	}
	if promtest.Value(t, reg, "musicfs_cache_integrity_failures_total") != 0 {
		t.Fatal("integrity failures after a clean restart")
	}
}

func TestStartReconcilesManifestsWithFiles(t *testing.T) {
	cfg := testConfig(t)
	s, _ := startStore(t, cfg)
	a, b, c := content(22, 3*bs), content(23, 3*bs), content(24, 3*bs)
	ka, kb, kc := keyOf("nas", "a", a), keyOf("nas", "b", b), keyOf("nas", "c", c)
	fetchAll(t, s, ka, newOrigin(a))
	fetchAll(t, s, kb, newOrigin(b))
	if err := s.Fetch(context.Background(), kc, newOrigin(c).open, 0, bs); err != nil {
		t.Fatal(err)
	}
	paths := map[string]string{}
	for _, e := range s.Entries() {
		paths[e.Keys[0].RelPath] = filepath.Join(cfg.Dir, filepath.FromSlash(e.ID))
	}
	stop(t, s)

	if err := os.Remove(paths["a"]); err != nil { // blob missing
		t.Fatal(err)
	}
	if err := os.Truncate(paths["c"], 5); err != nil { // fill of the wrong size
		t.Fatal(err)
	}
	stray := filepath.Join(cfg.Dir, "fill", "0123456789abcdef0123456789abcdef")
	if err := os.WriteFile(stray, nil, 0o600); err != nil {
		t.Fatal(err)
	}

	s2, _ := startStore(t, cfg)
	for _, k := range []cas.Key{ka, kc} {
		if present, _ := s2.Cached(k); present != 0 {
			t.Errorf("%s: manifest kept for a bad file", k.RelPath)
		}
	}
	if _, complete := s2.Cached(kb); !complete {
		t.Error("intact blob dropped")
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Error("file without manifest kept")
	}
	if _, err := os.Stat(paths["c"]); !os.IsNotExist(err) {
		t.Error("bad fill file kept")
	}
	if ents := s2.Entries(); len(ents) != 1 {
		t.Errorf("entries %+v, want only b's blob", ents)
	}
	// The dropped tracks are fetched again, correctly.
	mustReadAll(t, open(t, s2, kc, newOrigin(c)), c)
	mustReadAll(t, open(t, s2, ka, newOrigin(a)), a)
}

func TestLastAccessSurvivesRestart(t *testing.T) {
	cfg := testConfig(t)
	s, _ := startStore(t, cfg)
	a, b := content(25, bs), content(26, 2*bs)
	ka, kb := keyOf("nas", "a", a), keyOf("nas", "b", b)
	fetchAll(t, s, kb, newOrigin(b))
	fetchAll(t, s, ka, newOrigin(a))
	time.Sleep(2 * time.Millisecond) // access times have millisecond resolution
	r := open(t, s, kb, newOrigin(b))
	if _, err := r.ReadAt(t.Context(), make([]byte, 10), 0); err != nil {
		t.Fatal(err)
	}
	r.Close()
	before := accessTimes(s)
	if !before["b"].After(before["a"]) {
		t.Fatalf("b read last but LastAccess %v <= a's %v", before["b"], before["a"])
	}
	stop(t, s)
	s2, _ := startStore(t, cfg)
	after := accessTimes(s2)
	for name, at := range before {
		if !after[name].Equal(at) {
			t.Errorf("%s: LastAccess %v after restart, %v before", name, after[name], at)
		}
	}
}

func accessTimes(s *cas.Store) map[string]time.Time {
	m := map[string]time.Time{}
	for _, e := range s.Entries() {
		m[e.Keys[0].RelPath] = e.LastAccess
	}
	return m
}

func TestDirIsPrivate(t *testing.T) {
	cfg := testConfig(t)
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	startStore(t, cfg)
	fi, err := os.Stat(cfg.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir mode %v, want 0700", fi.Mode().Perm())
	}
}

// A cache written before block hashes were tree hashes (its fill blocks
// under the "blocks" bucket, each BLAKE3 of the block's bytes) starts
// without those blocks: they are fetched again, not found damaged, and
// the old bucket is gone.
func TestRestartDropsPlainBlockHashes(t *testing.T) {
	cfg := testConfig(t)
	s, _ := startStore(t, cfg)
	part := content(25, 6*bs)
	kp := keyOf("nas", "part", part)
	if err := s.Fetch(context.Background(), kp, newOrigin(part).open, 0, 2*bs); err != nil {
		t.Fatal(err)
	}
	stop(t, s)

	db, err := bolt.Open(filepath.Join(cfg.Dir, "manifests.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		old, err := tx.CreateBucket([]byte("blocks"))
		if err != nil {
			return err
		}
		if err := tx.Bucket([]byte("tree-blocks")).ForEach(func(k, _ []byte) error {
			i := int(binary.BigEndian.Uint32(k[len(k)-4:]))
			h := blake3.Sum256(part[i*bs : (i+1)*bs])
			return old.Put(k, h[:])
		}); err != nil {
			return err
		}
		return tx.DeleteBucket([]byte("tree-blocks"))
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s2, reg := startStore(t, cfg)
	if present, _ := s2.Cached(kp); present != 0 {
		t.Fatalf("%d bytes present from plain block hashes, want 0", present)
	}
	o := newOrigin(part)
	mustReadAll(t, open(t, s2, kp, o), part)
	if o.readsAt(0) != 1 {
		t.Fatalf("block 0 read %d times from the origin, want 1", o.readsAt(0))
	}
	if n := promtest.Value(t, reg, "musicfs_cache_integrity_failures_total"); n != 0 {
		t.Fatalf("%v integrity failures: old block hashes were checked", n)
	}
	stop(t, s2)
	db, err = bolt.Open(filepath.Join(cfg.Dir, "manifests.db"), 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		if tx.Bucket([]byte("blocks")) != nil {
			return errors.New(`bucket "blocks" still there`)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
