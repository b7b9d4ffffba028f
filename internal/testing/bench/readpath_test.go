package bench

import (
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"go.uber.org/fx"

	"github.com/musicfs/musicfs/internal/testing/apptest"
	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/modules/origins"
)

// TestReadPathHarness runs issue 9's measurements once on a few small
// tracks, so that CI exercises what BenchmarkReadPath, BenchmarkScannerPass
// and BenchmarkInFlightReads do; it checks the figures are plausible, not
// their values.
func TestReadPathHarness(t *testing.T) {
	const size = 2 << 20
	t.Run("read path", func(t *testing.T) {
		lib := filepath.Join(t.TempDir(), "lib")
		if err := audiogen.WriteBig(lib, coldSets+1, size); err != nil {
			t.Fatal(err)
		}
		d := startDaemon(t, lib)
		files := readPathLib(t, d, coldSets+1, size)
		if len(files.originSets) != coldSets || len(files.originRand) != 1 {
			t.Fatalf("%d sets and %d random files, want %d and 1", len(files.originSets), len(files.originRand), coldSets)
		}
		r, err := measureReadPath(t, files, d.cache)
		if err != nil {
			t.Fatal(err)
		}
		if r.randomReads != size/cacheBlock {
			t.Errorf("%d random reads, want one per block: %d", r.randomReads, size/cacheBlock)
		}
		for _, c := range r.comparisons() {
			if !(c.origin > 0 && c.mount > 0) {
				t.Errorf("%s: origin %v, mount %v: want both > 0", c.name, c.origin, c.mount)
			}
		}
	})
	t.Run("scanner pass", func(t *testing.T) {
		lib := filepath.Join(t.TempDir(), "lib")
		if err := audiogen.WriteLarge(lib, 4, size); err != nil {
			t.Fatal(err)
		}
		d := apptest.Start(t, lib)
		var origin, mount []string
		for i := range 4 {
			rel, _ := audiogen.LargeTrack(i)
			origin = append(origin, filepath.Join(lib, filepath.FromSlash(rel)))
			mount = append(mount, d.Path("Origins/lib/"+rel))
		}
		for i, flags := range []int{syscall.O_DIRECT, 0} {
			r, err := measureScan(t, d, origin[2*i:2*i+2], mount[2*i:2*i+2], flags)
			if err != nil {
				t.Fatal(err)
			}
			if r.read != 2*headBytes || r.originBytes < r.read || r.cacheGrowth < 0 || r.origin <= 0 || r.mount <= 0 {
				t.Errorf("flags %#x: %+v: want 2 heads read, at least as much from the origin, the cache not shrunk", flags, r)
			}
		}
	})
	t.Run("in-flight reads", func(t *testing.T) {
		lib := filepath.Join(t.TempDir(), "lib")
		if err := audiogen.WriteLarge(lib, 2, size); err != nil {
			t.Fatal(err)
		}
		var gate *faults.Flaky
		d := apptest.Start(t, lib, fx.Decorate(func(s origins.Set) origins.Set { gate = faults.NewFlaky(s, 0, 0); return gate }))
		var mount []string
		for i := range 2 {
			rel, _ := audiogen.LargeTrack(i)
			mount = append(mount, d.Path("Origins/lib/"+rel))
		}
		// Only plausible counts: a held read costs about one goroutine (its
		// fetch), less than the daemon's own come and go.
		before := runtime.NumGoroutine()
		if during := holdReads(t, gate, mount) - len(mount); during <= 0 || before <= 0 {
			t.Errorf("%d goroutines with 2 reads held, %d before: want both > 0", during, before)
		}
	})
}
