package bench

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/musicfs/musicfs/internal/testing/apptest"
	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/modules/origins"
)

const (
	randomReads = 2000
	headBytes   = 64 << 10
	albumTracks = 4
	albumTrack  = 32 << 20 // a typical FLAC track
)

// playAll reads every file from start to end with O_DIRECT, as a player
// whose data comes from the daemon (or the cache file it passed through),
// not from the mount's page cache.
func playAll(paths []string) (int64, error) {
	buf := make([]byte, 1<<20)
	var total int64
	for _, p := range paths {
		n, err := readFile(p, syscall.O_DIRECT, buf)
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// randomLatency preads 4 KiB at the same random offsets of each file and
// returns the median latency of one pread.
func randomLatency(path string, offsets []int64) (time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 4096)
	times := make([]time.Duration, 0, len(offsets))
	for _, off := range offsets {
		start := time.Now()
		if _, err := f.ReadAt(buf, off); err != nil {
			return 0, fmt.Errorf("pread %s at %d: %w", path, off, err)
		}
		times = append(times, time.Since(start))
	}
	return median(times), nil
}

// timeToHead is how long opening p and reading its first 64 KiB takes.
func timeToHead(p string) (time.Duration, error) {
	start := time.Now()
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if _, err := f.ReadAt(make([]byte, headBytes), 0); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// BenchmarkCache measures the content-addressed cache (issue 3) in process,
// with the origin behind a fault injector:
//   - sequential and random 4 KiB reads of cached files, warm, against the
//     same reads of the origin files from the page cache;
//   - with a 50 ms-latency origin, the time to the first 64 KiB of the next
//     track of an album after playing the previous one (prefetched), beside
//     the same for a track nothing prefetched;
//   - the bytes read from the origin to play an album twice.
func BenchmarkCache(b *testing.B) {
	lib := filepath.Join(b.TempDir(), "lib")
	if err := audiogen.WriteBig(lib, albumTracks, albumTrack); err != nil {
		b.Fatal(err)
	}
	// Another album, for the prefetch timings.
	if err := audiogen.WriteLarge(filepath.Join(lib, "Other"), 2, albumTrack); err != nil {
		b.Fatal(err)
	}
	var flaky *faults.Flaky
	d := apptest.Start(b, lib, fx.Decorate(func(s origins.Set) origins.Set {
		flaky = faults.NewFlaky(s, 0, 0)
		return flaky
	}))
	var origin, mount []string
	for i := range albumTracks {
		rel, _ := audiogen.BigTrack(i)
		origin = append(origin, filepath.Join(lib, rel))
		mount = append(mount, d.Path("Origins/lib/"+rel))
	}

	var cs []comparison
	for b.Loop() {
		// The album, twice, from a fresh cache: 1.0× its size from the origin.
		flaky.Reset()
		for range 2 {
			if _, err := playAll(mount); err != nil {
				b.Fatal(err)
			}
		}
		album := float64(albumTracks * albumTrack)
		cs = append(cs, comparison{name: "origin bytes to play an album twice, × its size", unit: "x",
			mount: float64(flaky.Bytes()) / album, limit: 1.0})

		// Warm sequential reads.
		buf := make([]byte, readBufSize)
		for _, paths := range [][]string{origin, mount} {
			if err := warmUp(paths, buf); err != nil {
				b.Fatal(err)
			}
		}
		n := int64(albumTracks * albumTrack)
		ot, mt, err := medianReads(origin, mount, readReps, n, buf)
		if err != nil {
			b.Fatal(err)
		}
		cs = append(cs, comparison{name: "cached sequential read, warm", unit: "MB/s",
			origin: mbPerSec(n, ot), mount: mbPerSec(n, mt), higher: true, limit: 0.8})

		// Random 4 KiB reads at the same offsets on both sides.
		offsets := make([]int64, randomReads)
		for i := range offsets {
			offsets[i] = rand.Int64N(albumTrack-4096) &^ 4095
		}
		var op, mp []time.Duration
		for range 3 {
			o, err := randomLatency(origin[0], offsets)
			if err != nil {
				b.Fatal(err)
			}
			m, err := randomLatency(mount[0], offsets)
			if err != nil {
				b.Fatal(err)
			}
			op, mp = append(op, o), append(mp, m)
		}
		cs = append(cs, comparison{name: "cached random 4 KiB pread, p50", unit: "µs",
			origin: float64(median(op).Nanoseconds()) / 1e3, mount: float64(median(mp).Nanoseconds()) / 1e3, limit: 2})

		// Prefetch: a 50 ms origin. Play track 1 of the other album, then
		// open track 2; track 1's own head had nothing before it.
		flaky.Latency = 50 * time.Millisecond
		rel0, _ := audiogen.LargeTrack(0)
		rel1, _ := audiogen.LargeTrack(1)
		cold, err := timeToHead(d.Path("Origins/lib/Other/" + rel0))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := playAll([]string{d.Path("Origins/lib/Other/" + rel0)}); err != nil {
			b.Fatal(err)
		}
		var warm time.Duration
		// The head of the next track is fetched in the background while
		// track 1 plays; a player takes at least this long to get there.
		time.Sleep(500 * time.Millisecond)
		if warm, err = timeToHead(d.Path("Origins/lib/Other/" + rel1)); err != nil {
			b.Fatal(err)
		}
		flaky.Latency = 0
		cs = append(cs, comparison{name: "50 ms origin: first 64 KiB of a track, not prefetched", unit: "ms",
			mount: float64(cold.Microseconds()) / 1e3})
		cs = append(cs, comparison{name: "50 ms origin: first 64 KiB of the next track, prefetched", unit: "ms",
			mount: float64(warm.Microseconds()) / 1e3, limit: 5})
	}
	title := fmt.Sprintf("BenchmarkCache: %d × %d MiB album, %d random reads (%s)", albumTracks, albumTrack>>20, randomReads, loadAvg())
	if err := writeTable(os.Stdout, title, cs); err != nil {
		b.Fatal(err)
	}
}
