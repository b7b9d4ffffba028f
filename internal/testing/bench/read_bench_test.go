package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
)

const (
	bigFiles = 8
	bigSize  = 128 << 20 // 8 × 128 MiB: the ~1 GB library of issue 2
	readReps = 5
)

// readResult is the median throughput, in MB/s, of one full sequential read
// of the library each way.
type readResult struct {
	origin float64 // the origin files, from the page cache
	mount  float64 // Origins/lib on the mount, from the mount's page cache
	cold   float64 // the same after dropping the mount's page cache (not the origin's)
	direct float64 // Origins/lib with O_DIRECT: every read a request to the daemon
}

// measureReads reads all files reps times each way, alternating so that load
// from elsewhere hits every side alike, and checks each read returned want
// bytes. The files must be warm on both sides: see warmUp.
func measureReads(origin, mount []string, reps int, want int64) (readResult, error) {
	buf := make([]byte, readBufSize)
	sides := []struct {
		name  string
		paths []string
		flags int
		cold  bool // drop the files' page cache before, warm it up again after
		times []time.Duration
	}{
		{name: "origin", paths: origin},
		{name: "mount", paths: mount},
		{name: "mount O_DIRECT", paths: mount, flags: syscall.O_DIRECT},
		{name: "mount, its page cache dropped", paths: mount, cold: true},
	}
	for range reps {
		for i := range sides {
			s := &sides[i]
			if s.cold {
				if err := dropPageCache(s.paths); err != nil {
					return readResult{}, fmt.Errorf("%s: %w", s.name, err)
				}
			}
			n, d, err := readFiles(s.paths, s.flags, buf)
			if err != nil {
				return readResult{}, fmt.Errorf("%s: %w", s.name, err)
			}
			if n != want {
				return readResult{}, fmt.Errorf("%s: read %d bytes, want %d", s.name, n, want)
			}
			s.times = append(s.times, d)
			if s.cold {
				if err := warmUp(s.paths, buf); err != nil {
					return readResult{}, fmt.Errorf("%s: %w", s.name, err)
				}
			}
		}
	}
	return readResult{
		origin: mbPerSec(want, median(sides[0].times)),
		mount:  mbPerSec(want, median(sides[1].times)),
		direct: mbPerSec(want, median(sides[2].times)),
		cold:   mbPerSec(want, median(sides[3].times)),
	}, nil
}

// warmUp reads the files so that the next read finds them in the page cache
// at full speed. A page read for the first time goes on the inactive LRU
// list and the second read moves it to the active one, which costs: the
// first cached read of freshly filled pages measured about 0.6× the later
// ones. It takes the read after that to see the real warm speed.
func warmUp(paths []string, buf []byte) error {
	for range 2 {
		if _, _, err := readFiles(paths, 0, buf); err != nil {
			return err
		}
	}
	return nil
}

// dropPageCache drops the cached pages of the files. On the mount that is
// the FUSE inodes' own cache, so the next read goes to the daemon, while the
// origin files it reads stay cached: unlike /proc/sys/vm/drop_caches, which
// would also disturb everything else running on the machine.
func dropPageCache(paths []string) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
		f.Close()
		if err != nil {
			return fmt.Errorf("fadvise %s: %w", p, err)
		}
	}
	return nil
}

// comparisons: issue 2's target (≥ 0.1x) is for the warm read; the two
// read-through rows have none yet (the cache issue's passthrough is what
// moves them) and are printed for reference.
func (r readResult) comparisons() []comparison {
	return []comparison{
		{name: "sequential read, warm page cache", unit: "MB/s", origin: r.origin, mount: r.mount, higher: true, limit: 0.1},
		{name: "sequential read, mount's page cache dropped", unit: "MB/s", origin: r.origin, mount: r.cold, higher: true},
		{name: "sequential read, O_DIRECT on the mount", unit: "MB/s", origin: r.origin, mount: r.direct, higher: true},
	}
}

// BenchmarkSequentialRead reads ~1 GB of large FLAC and MP3 files with 1 MiB
// read(2) calls from the origin directory and through Origins/lib of the
// mount. Both sides are warm: the origin files are in the page cache, and
// the mount keeps its own page cache across opens. Two more reads of the
// mount measure the daemon itself reading through to the (cached) origin: a
// first read after dropping only the mount's page cache (the kernel's
// readahead at work, as for a player's first play), and O_DIRECT reads,
// each one a request to the daemon.
func BenchmarkSequentialRead(b *testing.B) {
	lib := filepath.Join(b.TempDir(), "lib")
	start := time.Now()
	if err := audiogen.WriteBig(lib, bigFiles, bigSize); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d × %d MiB in %v", bigFiles, bigSize>>20, time.Since(start).Round(time.Millisecond))

	d := startDaemon(b, lib)
	var rels, origin, mount []string
	for i := range bigFiles {
		rel, _ := audiogen.BigTrack(i)
		rels = append(rels, rel)
		origin = append(origin, filepath.Join(lib, filepath.FromSlash(rel)))
		mount = append(mount, d.path("Origins/lib/"+rel))
	}
	d.waitFiles(b, rels, time.Minute)

	// Warm both page caches: the origin's, and the mount's own.
	buf := make([]byte, readBufSize)
	for _, paths := range [][]string{origin, mount} {
		if err := warmUp(paths, buf); err != nil {
			b.Fatal(err)
		}
	}

	var res readResult
	for b.Loop() {
		var err error
		if res, err = measureReads(origin, mount, readReps, int64(bigFiles)*bigSize); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(res.mount/res.origin, "x_origin")
	b.ReportMetric(res.cold/res.origin, "cold_x_origin")
	b.ReportMetric(res.direct/res.origin, "direct_x_origin")
	b.ReportMetric(res.origin, "origin_MB/s")
	b.ReportMetric(res.mount, "mount_MB/s")
	b.ReportMetric(res.cold, "cold_MB/s")
	b.ReportMetric(res.direct, "direct_MB/s")
	title := fmt.Sprintf("BenchmarkSequentialRead: %d files × %d MiB, 1 MiB reads, median of %d (%s)",
		bigFiles, bigSize>>20, readReps, loadAvg())
	if err := writeTable(os.Stdout, title, res.comparisons()); err != nil {
		b.Fatal(err)
	}
}

// loadAvg is the 1, 5 and 15 minute load averages, to judge how much other
// work shared the machine during a run.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load unknown"
	}
	var l1, l5, l15 string
	if _, err := fmt.Sscan(string(b), &l1, &l5, &l15); err != nil {
		return "load unknown"
	}
	return fmt.Sprintf("load %s %s %s", l1, l5, l15)
}
