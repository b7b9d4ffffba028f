package cas_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

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
