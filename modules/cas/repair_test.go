package cas_test

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/sys/unix"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
)

// guardConfig checks open blobs often, so that tests wait milliseconds for
// what takes a second in production.
func guardConfig(t *testing.T) cas.Config {
	cfg := testConfig(t)
	cfg.OpenCheckInterval = 10 * time.Millisecond
	return cfg
}

// observedStore is startStore with the logs observable.
func observedStore(t *testing.T, cfg cas.Config) (*cas.Store, *prometheus.Registry, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	s, reg := startStoreLogged(t, cfg, zap.New(core))
	return s, reg, logs
}

// waitFor polls a signal the store gives (a counter, a log entry) until
// it is there; it never sleeps for the thing itself to happen.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 10 s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func repairs(t *testing.T, reg *prometheus.Registry, result string) float64 {
	return promtest.Value(t, reg, "musicfs_cache_repairs_total", "result", result)
}

// readThrough reads f from start to end as the kernel does for a
// passed-through file: whatever the file holds, until its end.
func readThrough(f *os.File) ([]byte, error) {
	return io.ReadAll(io.NewSectionReader(f, 0, math.MaxInt64))
}

// A blob handed out for passthrough (the kernel reads it directly, with no
// check of ours in between) and then damaged is repaired in place from the
// origin: the descriptor already handed out reads the right bytes again,
// and only the damaged block is fetched.
func TestOpenBlobDamagedIsRepairedInPlace(t *testing.T) {
	s, reg, logs := observedStore(t, guardConfig(t))
	data := content(30, 6*bs+99)
	o := newOrigin(data)
	k := keyOf("nas", "held.flac", data)
	fetchAll(t, s, k, o)
	r := open(t, s, k, o)
	held, ok := r.Blob()
	if !ok {
		t.Fatal("complete track not offered for passthrough")
	}
	before := o.bytes.Load()

	faults.FlipByte(t, entryFile(t, s, s.Dir(), "blobs/"), 4*bs+7)
	waitFor(t, "repair", func() bool { return repairs(t, reg, "repaired") == 1 })

	got, err := readThrough(held)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read through the held descriptor after the repair: %v, right bytes %v", err, bytes.Equal(got, data))
	}
	if n := o.bytes.Load() - before; n != bs {
		t.Fatalf("the repair read %d bytes from the origin, want one block (%d)", n, bs)
	}
	if logs.FilterMessageSnippet("repaired").Len() != 1 {
		t.Fatalf("want one log of the repair, got %v", logs.All())
	}
	// The Reader itself, and a new one, serve the repaired blob.
	mustReadAll(t, r, data)
	if _, ok := open(t, s, k, o).Blob(); !ok {
		t.Fatal("repaired blob not offered for passthrough")
	}
}

// The same with the origin offline: the damage cannot be repaired, so it is
// made to fail loudly. The descriptor handed out never reads the damaged
// bytes (the file is cut at the damaged block: reads end there), one
// ERROR names the track, and the store serves the track no more.
func TestOpenBlobDamagedOriginOfflineFailsLoudly(t *testing.T) {
	s, reg, logs := observedStore(t, guardConfig(t))
	data := content(31, 6*bs+99)
	o := newOrigin(data)
	k := keyOf("nas", "held.flac", data)
	fetchAll(t, s, k, o)
	r := open(t, s, k, o)
	held, ok := r.Blob()
	if !ok {
		t.Fatal("complete track not offered for passthrough")
	}
	o.offline.Store(true)
	const damaged = 4*bs + 7
	faults.FlipByte(t, entryFile(t, s, s.Dir(), "blobs/"), damaged)
	waitFor(t, "failed repair", func() bool { return repairs(t, reg, "failed") == 1 })

	got, err := readThrough(held)
	if err == nil && len(got) == len(data) {
		t.Fatal("the held descriptor still reads the whole damaged file")
	}
	if len(got) > damaged || !bytes.Equal(got, data[:len(got)]) {
		t.Fatalf("the held descriptor read %d bytes past or with the damage", len(got))
	}
	errs := logs.FilterLevelExact(zapcore.ErrorLevel)
	if errs.Len() != 1 || !strings.Contains(fmt.Sprint(errs.All()[0].ContextMap()["tracks"]), k.String()) {
		t.Fatalf("want one ERROR naming the track, got %v", errs.All())
	}
	if _, err := readAll(r, k.Size, 1000); err == nil {
		t.Fatal("the Reader served the damaged track with the origin offline")
	}
	r2 := open(t, s, k, o)
	if _, ok := r2.Blob(); ok {
		t.Fatal("damaged blob offered for passthrough")
	}
	if got, err := readAll(r2, k.Size, 1000); err == nil || !bytes.Equal(got, data[:len(got)]) {
		t.Fatalf("new Reader with the origin offline: %v, right bytes %v; want an error", err, bytes.Equal(got, data[:len(got)]))
	}
	// Back online: fetched again, whole.
	o.offline.Store(false)
	mustReadAll(t, open(t, s, k, o), data)
}

// Every open for passthrough hashes the blob whole, unless that was done
// within FreshFor: damage that keeps the file's stamp (bit rot below the
// filesystem) cannot reach a new open that way.
func TestPassthroughOpenVerifiesUnlessFresh(t *testing.T) {
	for _, tc := range []struct {
		name     string
		freshFor time.Duration
		want     float64 // verifications for three opens
	}{
		{"every open", time.Nanosecond, 3},
		{"within the window", time.Hour, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.FreshFor = tc.freshFor
			s, reg := startStore(t, cfg)
			data := content(32, 5*bs)
			o := newOrigin(data)
			k := keyOf("nas", "a", data)
			fetchAll(t, s, k, o)
			base := promtest.Value(t, reg, "musicfs_cache_blob_verifications_total")
			for range 3 {
				r := open(t, s, k, o)
				if _, ok := r.Blob(); !ok {
					t.Fatal("not offered for passthrough")
				}
				r.Close()
			}
			if got := promtest.Value(t, reg, "musicfs_cache_blob_verifications_total") - base; got != tc.want {
				t.Fatalf("%v whole-blob verifications for 3 passthrough opens, want %v", got, tc.want)
			}
		})
	}
}

// Open blobs are rehashed at the priority interval even when their stamp
// does not change; one found damaged then is repaired in place.
func TestOpenBlobRescrubbedAtPriorityInterval(t *testing.T) {
	cfg := guardConfig(t)
	cfg.OpenScrubInterval = 20 * time.Millisecond
	cfg.ScrubRate = 1 << 30
	s, reg := startStore(t, cfg)
	data := content(33, 4*bs)
	o := newOrigin(data)
	k := keyOf("nas", "a", data)
	fetchAll(t, s, k, o)
	r := open(t, s, k, o)
	if _, ok := r.Blob(); !ok {
		t.Fatal("not offered for passthrough")
	}
	base := promtest.Value(t, reg, "musicfs_cache_blob_verifications_total")
	waitFor(t, "rehash of the open blob", func() bool {
		return promtest.Value(t, reg, "musicfs_cache_blob_verifications_total") >= base+3
	})
}

// Where the kernel or the cache filesystem lacks fs-verity (these machines),
// enabling it is skipped cleanly: said once, blobs still served and
// verified by the daemon. Where it has it, blobs get it.
func TestFsVeritySkippedWhereUnsupported(t *testing.T) {
	s, _, logs := observedStore(t, testConfig(t))
	for i := range 3 {
		data := content(uint64(40+i), 3*bs)
		o := newOrigin(data)
		k := keyOf("nas", string(rune('a'+i)), data)
		fetchAll(t, s, k, o)
		r := open(t, s, k, o)
		if _, ok := r.Blob(); !ok {
			t.Fatal("not offered for passthrough")
		}
		mustReadAll(t, r, data)
		r.Close()
	}
	var verity int
	for _, e := range s.Entries() {
		var stx unix.Statx_t
		if err := unix.Statx(unix.AT_FDCWD, s.Dir()+"/"+e.ID, 0, unix.STATX_BASIC_STATS, &stx); err != nil {
			t.Fatal(err)
		}
		if stx.Attributes&unix.STATX_ATTR_VERITY != 0 {
			verity++
		}
	}
	skipped := logs.FilterMessageSnippet("fs-verity").FilterLevelExact(zapcore.InfoLevel)
	switch {
	case verity == 0 && skipped.Len() != 1:
		t.Fatalf("fs-verity unavailable: want it said once at info level, got %v", logs.FilterMessageSnippet("verity").All())
	case verity == 0:
		t.Logf("skipped: %v", skipped.All()[0].ContextMap())
	case verity != 3 || skipped.Len() != 0:
		t.Fatalf("fs-verity available: %d of 3 blobs have it, %d skip logs", verity, skipped.Len())
	}
	if n := logs.FilterLevelExact(zapcore.WarnLevel).Len() + logs.FilterLevelExact(zapcore.ErrorLevel).Len(); n != 0 {
		t.Fatalf("warnings or errors: %v", logs.All())
	}
}
