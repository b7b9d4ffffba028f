package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

const (
	libraryTracks     = 100000
	libraryTrackBytes = 2 << 10 // the walk is what matters, not the bytes
	walkRuns          = 3
	rssLimitMiB       = 200
	changes           = 100
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

// BenchmarkLibrary100k runs the daemon over 100,000 tracks (ten per album,
// ten albums per artist) and measures issue 4's targets: the first scan's
// rate, warm ls -lR and find of the Artists/ view against the same walks of
// the origin directory (which holds the same files at a similar depth), RSS
// after a full walk, a warm restart to READY from the persisted index, and
// how soon 100 changes on the origin show in the mount.
func BenchmarkLibrary100k(b *testing.B) {
	lib := filepath.Join(b.TempDir(), "lib")
	start := time.Now()
	if err := audiogen.WriteLarge(lib, libraryTracks, libraryTrackBytes); err != nil {
		b.Fatal(err)
	}
	b.Logf("wrote %d tracks in %v", libraryTracks, time.Since(start).Round(time.Millisecond))

	start = time.Now()
	d := startDaemon(b, lib)
	ready := time.Since(start)
	d.waitTree(b, "Artists", libraryTracks, 10*time.Minute)
	scanned := time.Since(start)
	var scan map[string]any
	mounttest.Eventually(b, 30*time.Second, "the scan's last log line", func() bool {
		scan = d.logLine("scan finished")
		return scan != nil
	})

	var res walkResult
	var restart time.Duration
	var lat []time.Duration
	for b.Loop() {
		var err error
		if res, err = measureWalks(lib, d.path("Artists"), walkRuns, d.pid()); err != nil {
			b.Fatal(err)
		}
		d.stop(b)
		start := time.Now()
		d.start(b)
		restart = time.Since(start)
		if lat, err = changeLatencies(d, changes); err != nil {
			b.Fatal(err)
		}
	}
	for i, w := range walkers {
		b.ReportMetric(res.mount[i].Seconds()/res.origin[i].Seconds(), w.metric+"_x_origin")
	}
	b.ReportMetric(res.rss, "rss_MiB")
	cs := append(res.comparisons(),
		comparison{name: "first scan", unit: "tracks/s", mount: libraryTracks / scanned.Seconds(), higher: true, limit: 5000},
		comparison{name: "first scan, bytes read per track for tags, mean", unit: "B", mount: num(scan["tag_bytes_mean"])},
		comparison{name: "first scan, bytes read per track for tags, max", unit: "B", mount: num(scan["tag_bytes_max"])},
		comparison{name: "warm restart to READY", unit: "s", mount: restart.Seconds(), limit: 1},
		comparison{name: "change on the origin visible in the mount, p50", unit: "s", mount: median(lat).Seconds()},
		comparison{name: "change on the origin visible in the mount, max", unit: "s", mount: slices.Max(lat).Seconds(), limit: 2},
	)
	title := fmt.Sprintf("BenchmarkLibrary100k: %d tracks, Artists/ vs the origin dir, median of %d warm walks (%s)\n"+
		"  first start: READY after %v, all tracks in Artists/ after %v",
		libraryTracks, walkRuns, loadAvg(), ready.Round(time.Millisecond), scanned.Round(time.Millisecond))
	if err := writeTable(os.Stdout, title, cs); err != nil {
		b.Fatal(err)
	}
}

// changeLatencies adds n tracks to the origin one at a time and times how
// long each takes to appear under Artists/ on the mount.
func changeLatencies(d *daemon, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := range n {
		name := fmt.Sprintf("Change %03d", i)
		data := audiogen.FLAC(audiogen.Tags{Title: name, Artist: "Changes", Album: "Live", Year: 2026, Track: i + 1},
			audiogen.FLACOptions{Seed: int64(i), Seconds: 0.05})
		dir := filepath.Join(d.lib, "Changes")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		tmp := filepath.Join(dir, ".part")
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return nil, err
		}
		want := d.path(fmt.Sprintf("Artists/Changes/Live (2026)/%02d %s.flac", i+1, name))
		start := time.Now()
		if err := os.Rename(tmp, filepath.Join(dir, name+".flac")); err != nil {
			return nil, err
		}
		for {
			if _, err := os.Stat(want); err == nil {
				break
			}
			if time.Since(start) > 30*time.Second {
				return nil, fmt.Errorf("%s did not appear within 30 s", want)
			}
			time.Sleep(5 * time.Millisecond)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// num reads a JSON number, 0 if it is none.
func num(v any) float64 {
	f, _ := v.(float64)
	return f
}
