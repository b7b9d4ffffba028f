package bench

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/musicfs/musicfs/internal/testing/apptest"
	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/origins"
)

const (
	scanTracks    = 2000 // half read O_DIRECT, half through the page cache
	scanTrackSize = 2 << 20
	inFlightReads = 16
)

// scanPass is what one scanner pass over a set of never-read tracks cost.
type scanPass struct {
	read, originBytes, cacheGrowth int64
	origin, mount                  time.Duration // the same pass on the origin dir, and through the mount
}

// scanHeads opens every path, reads its first headBytes (with flags added
// to the open) and closes it; it returns the bytes read and the time taken.
func scanHeads(paths []string, flags int) (int64, time.Duration, error) {
	buf := make([]byte, headBytes)
	var total int64
	start := time.Now()
	for _, p := range paths {
		f, err := os.OpenFile(p, os.O_RDONLY|flags, 0)
		if err != nil {
			return total, 0, err
		}
		n, err := io.ReadFull(f, buf)
		f.Close()
		total += int64(n)
		if err != nil {
			return total, 0, fmt.Errorf("read the head of %s: %w", p, err)
		}
	}
	return total, time.Since(start), nil
}

// measureScan runs a scanner pass over origin (the files' paths on the
// origin dir) and mount (the same on the mount), for d.
func measureScan(tb testing.TB, d *apptest.Daemon, origin, mount []string, flags int) (scanPass, error) {
	var r scanPass
	var err error
	if _, r.origin, err = scanHeads(origin, flags); err != nil {
		return r, err
	}
	originBytes := func() int64 {
		// The series appears with the first fetch from the origin.
		mfs, err := d.Registry.Gather()
		if err != nil {
			tb.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() == "musicfs_origin_read_bytes_total" {
				return int64(promtest.Value(tb, d.Registry, mf.GetName(), "origin", "lib"))
			}
		}
		return 0
	}
	o0 := originBytes()
	c0, err := mounttest.DiskUsage(d.Config.Cache.Store.Dir)
	if err != nil {
		return r, err
	}
	if r.read, r.mount, err = scanHeads(mount, flags); err != nil {
		return r, err
	}
	r.originBytes = originBytes() - o0
	c1, err := mounttest.DiskUsage(d.Config.Cache.Store.Dir)
	r.cacheGrowth = c1 - c0
	return r, err
}

// BenchmarkScannerPass is issue 9's library scanner: every track of a
// library never played opened, its first 64 KiB read, closed. Half the
// tracks are read O_DIRECT (the daemon is asked for exactly those bytes),
// half through the page cache, as scanners do (the kernel's readahead asks
// for more). It reports the bytes the cache fetched from the origin and
// the growth of cache.dir, as ratios to the bytes the scanner read
// (targets 1.5x and 2x), and the pass's time against the same pass on the
// origin directory. In process, for the daemon's metrics.
func BenchmarkScannerPass(b *testing.B) {
	lib := filepath.Join(b.TempDir(), "lib")
	start := time.Now()
	if err := audiogen.WriteLarge(lib, scanTracks, scanTrackSize); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d × %d MiB in %v", scanTracks, scanTrackSize>>20, time.Since(start).Round(time.Millisecond))
	d := apptest.Start(b, lib)
	var origin, mount []string
	for i := range scanTracks {
		rel, _ := audiogen.LargeTrack(i)
		origin = append(origin, filepath.Join(lib, filepath.FromSlash(rel)))
		mount = append(mount, d.Path("Origins/lib/"+rel))
	}

	var cs []comparison
	for b.Loop() {
		cs = cs[:0]
		half := scanTracks / 2
		for i, flags := range []int{syscall.O_DIRECT, 0} {
			r, err := measureScan(b, d, origin[i*half:(i+1)*half], mount[i*half:(i+1)*half], flags)
			if err != nil {
				b.Fatal(err)
			}
			what := map[int]string{syscall.O_DIRECT: "O_DIRECT", 0: "page cache"}[flags]
			read := float64(r.read)
			cs = append(cs,
				comparison{name: fmt.Sprintf("scanner pass (%s): origin bytes / bytes read", what), unit: "x",
					mount: float64(r.originBytes) / read, limit: 1.5},
				comparison{name: fmt.Sprintf("scanner pass (%s): cache growth / bytes read", what), unit: "x",
					mount: float64(r.cacheGrowth) / read, limit: 2},
				comparison{name: fmt.Sprintf("scanner pass (%s): time for %d heads", what, half), unit: "s",
					origin: r.origin.Seconds(), mount: r.mount.Seconds()})
			b.Logf("scanner pass (%s): read %.1f MiB; origin %.1f MiB; cache grew %.1f MiB; %v (origin dir %v)",
				what, read/(1<<20), float64(r.originBytes)/(1<<20), float64(r.cacheGrowth)/(1<<20),
				r.mount.Round(time.Millisecond), r.origin.Round(time.Millisecond))
		}
	}
	b.ReportMetric(cs[0].mount, "origin_x_read")
	b.ReportMetric(cs[1].mount, "growth_x_read")
	b.ReportMetric(cs[2].ratio(), "time_x_origin")
	b.ReportMetric(cs[3].mount, "pagecache_origin_x_read")
	b.ReportMetric(cs[4].mount, "pagecache_growth_x_read")
	title := fmt.Sprintf("BenchmarkScannerPass: %d tracks of %d MiB, 64 KiB heads, fresh cache (%s)",
		scanTracks, scanTrackSize>>20, loadAvg())
	if err := writeTable(os.Stdout, title, cs); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkInFlightReads counts the goroutines a read costs while it waits
// on a slow origin (issue 9: a goroutine per block fetch in cas, another
// in origins): 16 readers each read 4 KiB (O_DIRECT) of a different
// uncached track while the origin holds every read, and the daemon's
// goroutines are counted (in process: runtime.NumGoroutine less the
// readers themselves) against the count before and after. Fetches per
// origin are raised to 16, so that every read reaches the origin.
func BenchmarkInFlightReads(b *testing.B) {
	lib := filepath.Join(b.TempDir(), "lib")
	if err := audiogen.WriteLarge(lib, inFlightReads, scanTrackSize); err != nil {
		b.Fatal(err)
	}
	var gate *faults.Flaky
	d := apptest.Start(b, lib,
		fx.Decorate(func(s origins.Set) origins.Set { gate = faults.NewFlaky(s, 0, 0); return gate }),
		fx.Decorate(func(c cas.Config) cas.Config { c.FetchConcurrency = inFlightReads; return c }))
	var mount []string
	for i := range inFlightReads {
		rel, _ := audiogen.LargeTrack(i)
		mount = append(mount, d.Path("Origins/lib/"+rel))
	}

	var before, during, after int
	for b.Loop() {
		before = runtime.NumGoroutine()
		during = holdReads(b, gate, mount) - len(mount)
		// The released fetches' goroutines end soon after the reads
		// return; what is left after a second is reported.
		for deadline := time.Now().Add(time.Second); ; time.Sleep(10 * time.Millisecond) {
			if after = runtime.NumGoroutine(); after <= before || time.Now().After(deadline) {
				break
			}
		}
	}
	perRead := float64(during-before) / inFlightReads
	b.ReportMetric(perRead, "goroutines/read")
	cs := []comparison{
		{name: "goroutines, idle (daemon in process)", unit: "", mount: float64(before)},
		{name: fmt.Sprintf("goroutines, %d reads held at the origin, less the readers", inFlightReads), unit: "", mount: float64(during)},
		{name: "goroutines per in-flight read", unit: "", mount: perRead},
		{name: "goroutines 1 s after the reads returned", unit: "", mount: float64(after)},
	}
	title := fmt.Sprintf("BenchmarkInFlightReads: %d concurrent 4 KiB reads of uncached tracks, origin holding them (%s)",
		inFlightReads, loadAvg())
	if err := writeTable(os.Stdout, title, cs); err != nil {
		b.Fatal(err)
	}
}

// holdReads reads 4 KiB (O_DIRECT) of every path at once, one goroutine
// each, with the Flaky origin holding their reads (Hang), and returns
// runtime.NumGoroutine once all are held. The reads are released and
// waited for before it returns, also when it fails.
func holdReads(tb testing.TB, gate *faults.Flaky, paths []string) int {
	tb.Helper()
	gate.Hang()
	errs := make(chan error, len(paths))
	var wg sync.WaitGroup
	defer func() {
		gate.Resume()
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				tb.Error(err)
			}
		}
	}()
	for _, p := range paths {
		wg.Go(func() {
			f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_DIRECT, 0)
			if err == nil {
				_, err = f.ReadAt(make([]byte, 4096), 0)
				f.Close()
			}
			errs <- err
		})
	}
	mounttest.Eventually(tb, 10*time.Second, "every read held at the origin", func() bool {
		return gate.Blocked() == int64(len(paths))
	})
	return runtime.NumGoroutine()
}
