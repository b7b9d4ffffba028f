package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
)

const (
	walkTracks     = 20000
	walkTrackBytes = 8 << 10 // the walk is what matters, not the bytes
	walkRuns       = 3
	rssLimitMiB    = 60
)

// walkResult is the median warm walk times of each walker, and the daemon's
// memory after them.
type walkResult struct {
	origin, mount []time.Duration // by walkers index
	rss, peak     float64         // MiB
}

// measureWalks runs every walker over the origin directory and the mount's
// view directory, then reads the daemon's memory.
func measureWalks(origin, view string, runs, pid int) (walkResult, error) {
	var r walkResult
	for _, w := range walkers {
		o, m, err := w.walkTimes(origin, view, runs)
		if err != nil {
			return walkResult{}, err
		}
		r.origin = append(r.origin, o)
		r.mount = append(r.mount, m)
	}
	var err error
	r.rss, r.peak, err = memMiB(pid)
	return r, err
}

func (r walkResult) comparisons() []comparison {
	var cs []comparison
	for i, w := range walkers {
		cs = append(cs, comparison{name: w.name + ", warm", unit: "s",
			origin: r.origin[i].Seconds(), mount: r.mount[i].Seconds(), limit: w.limit})
	}
	return append(cs,
		comparison{name: "daemon VmRSS after the walks", unit: "MiB", mount: r.rss, limit: rssLimitMiB},
		comparison{name: "daemon VmHWM (peak RSS)", unit: "MiB", mount: r.peak},
	)
}

// BenchmarkWalk20k walks a library of 20,000 tracks (ten per album, ten
// albums per artist) with ls -lR and find, warm: the origin directory and
// the mount's Artists/ view, which holds the same files at a similar depth.
func BenchmarkWalk20k(b *testing.B) {
	lib := filepath.Join(b.TempDir(), "lib")
	start := time.Now()
	if err := audiogen.WriteLarge(lib, walkTracks, walkTrackBytes); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d tracks in %v", walkTracks, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	d := startDaemon(b, lib)
	ready := time.Since(start)
	last, _ := audiogen.LargeTrack(walkTracks - 1)
	d.waitFiles(b, []string{last}, 5*time.Minute)
	d.waitTree(b, "Artists", walkTracks, 5*time.Minute)
	scanned := time.Since(start)

	var res walkResult
	for b.Loop() {
		var err error
		if res, err = measureWalks(lib, d.path("Artists"), walkRuns, d.pid()); err != nil {
			b.Fatal(err)
		}
	}
	for i, w := range walkers {
		b.ReportMetric(res.mount[i].Seconds()/res.origin[i].Seconds(), w.metric+"_x_origin")
	}
	b.ReportMetric(res.rss, "rss_MiB")
	title := fmt.Sprintf("BenchmarkWalk20k: %d tracks, Artists/ vs the origin dir, median of %d warm walks (%s)\n"+
		"  READY after %v, all tracks in Artists/ after %v",
		walkTracks, walkRuns, loadAvg(), ready.Round(time.Millisecond), scanned.Round(time.Millisecond))
	if err := writeTable(os.Stdout, title, res.comparisons()); err != nil {
		b.Fatal(err)
	}
}
