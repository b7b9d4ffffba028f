package cas_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/musicfs/musicfs/modules/cas"
)

// fillStore caches n small tracks, so the manifest database has many pages.
func fillStore(t *testing.T, s *cas.Store, n int) {
	t.Helper()
	for i := range n {
		data := content(uint64(100+i), bs)
		fetchAll(t, s, keyOf("nas", fmt.Sprintf("some/rather/long/path/to/a/track-%03d.flac", i), data), newOrigin(data))
	}
}

// damageDBPages scribbles the page type of every leaf page of the database
// at path (not its meta pages or freelist), so bbolt panics reading them.
func damageDBPages(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damaged := 0
	for p := 2; p*4096+16 < len(b); p++ {
		if b[p*4096+8] == 0x02 { // leaf page flag
			b[p*4096+8] = 0xA5
			damaged++
		}
	}
	if damaged == 0 {
		t.Fatal("no leaf page to damage")
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(b, 0); err != nil { // in place: an open database sees it
		t.Fatal(err)
	}
}

// A damaged manifest database makes bbolt panic instead of returning an
// error; Start must survive it and start with an empty cache, not crash
// (the daemon would crash-loop).
func TestDamagedDatabaseStartsEmpty(t *testing.T) {
	cfg := testConfig(t)
	s, _ := startStore(t, cfg)
	fillStore(t, s, 300)
	stop(t, s)
	damageDBPages(t, filepath.Join(cfg.Dir, "manifests.db"))

	s2, err := cas.New(cas.Params{Config: cfg, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if v := recover(); v != nil {
				t.Fatalf("Start panicked on a damaged database: %v", v)
			}
		}()
		if err := s2.Start(context.Background()); err != nil {
			t.Fatalf("Start on a damaged database: %v", err)
		}
	}()
	t.Cleanup(func() { s2.Stop(context.Background()) })
	if n := len(s2.Entries()); n != 0 || s2.Usage() != 0 {
		t.Fatalf("%d entries, usage %d after losing the database; want an empty cache", n, s2.Usage())
	}
	// The cache works again, and survives a restart.
	data := content(1, 3*bs)
	k := keyOf("nas", "after", data)
	fetchAll(t, s2, k, newOrigin(data))
	stop(t, s2)
	s3, _ := startStore(t, cfg)
	if _, complete := s3.Cached(k); !complete {
		t.Fatal("track cached after the reset lost at restart")
	}
}

// A database damaged while the store runs makes the manifest writer panic;
// the store keeps serving, Stop returns, and the next Start recovers.
func TestDatabaseDamagedWhileRunningDoesNotCrash(t *testing.T) {
	cfg := testConfig(t)
	s, _ := startStore(t, cfg)
	fillStore(t, s, 300)
	stop(t, s)
	s2, _ := startStore(t, cfg)
	damageDBPages(t, filepath.Join(cfg.Dir, "manifests.db"))

	// New manifests are written through damaged pages.
	for i := range 3 {
		data := content(uint64(500+i), 2*bs)
		k := keyOf("nas", fmt.Sprintf("new-%d", i), data)
		fetchAll(t, s2, k, newOrigin(data))
		mustReadAll(t, open(t, s2, k, newOrigin(nil)), data)
	}
	stop(t, s2)
	s3, _ := startStore(t, cfg)
	data := content(9, bs)
	fetchAll(t, s3, keyOf("nas", "later", data), newOrigin(data))
}
