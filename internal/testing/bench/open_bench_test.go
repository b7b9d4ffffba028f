package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/musicfs/musicfs/internal/testing/apptest"
	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
)

const (
	openTrack  = 30_000_000 // a 30 MB track, as issue 8 asks
	openTracks = 4
	opens      = 200
)

// percentile is the p-th percentile (0 < p ≤ 1) of ds, nearest rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// openLatencies times n open(2) calls of p (each closed at once). With
// cold, the page cache of the cached copy is dropped before each, so the
// open's hash reads it from disk.
func openLatencies(p, blob string, n int, cold bool) ([]time.Duration, error) {
	ds := make([]time.Duration, 0, n)
	for range n {
		if cold {
			if err := dropPageCache([]string{blob}); err != nil {
				return nil, err
			}
		}
		start := time.Now()
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		ds = append(ds, time.Since(start))
		f.Close()
	}
	return ds, nil
}

// blobFiles lists the complete cached files under a cache directory.
func blobFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// cachedAlbum starts a daemon over lib (cas tuned by tune), plays every
// track once and waits until each is a blob; it returns the mount paths
// and the blob files.
func cachedAlbum(b *testing.B, lib string, tune func(*cas.Config)) (*apptest.Daemon, []string, []string) {
	b.Helper()
	d := apptest.Start(b, lib, fx.Decorate(func(c cas.Config) cas.Config { tune(&c); return c }))
	var mount []string
	for i := range openTracks {
		rel, _ := audiogen.BigTrack(i)
		mount = append(mount, d.Path("Origins/lib/"+rel))
	}
	if _, err := playAll(mount); err != nil {
		b.Fatal(err)
	}
	var blobs []string
	mounttest.Eventually(b, 30*time.Second, "every track a blob", func() bool {
		var err error
		blobs, err = blobFiles(d.Config.Cache.Store.Dir)
		return err == nil && len(blobs) == openTracks
	})
	return d, mount, blobs
}

// blobOf returns the blob holding the same bytes as the origin file p.
func blobOf(blobs []string, p string) (string, error) {
	want, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	for _, bl := range blobs {
		if fi, err := os.Stat(bl); err == nil && fi.Size() == want.Size() {
			return bl, nil
		}
	}
	return "", errors.New("no blob of that size")
}

// BenchmarkPassthroughOpen measures what issue 8's open-time verification
// costs: every open of a complete cached file for passthrough hashes it
// whole (BLAKE3) unless it hashed right in the last few seconds.
//   - open(2) latency of a 30 MB cached track, p50 and p99, with the hash
//     at every open: cold (the cached copy's pages dropped, so it is read
//     from disk) and warm (in the page cache); and warm within the window,
//     where the open does not hash;
//   - sequential reads of the album, warm, against the origin files from
//     the page cache, in production settings (target ≥ 0.9x) and with the
//     hash at every open.
func BenchmarkPassthroughOpen(b *testing.B) {
	lib := filepath.Join(b.TempDir(), "lib")
	if err := audiogen.WriteBig(lib, openTracks, openTrack); err != nil {
		b.Fatal(err)
	}
	var origin []string
	for i := range openTracks {
		rel, _ := audiogen.BigTrack(i)
		origin = append(origin, filepath.Join(lib, rel))
	}
	buf := make([]byte, readBufSize)
	seqRead := func(mount []string) (o, m time.Duration) {
		for _, paths := range [][]string{origin, mount} {
			if err := warmUp(paths, buf); err != nil {
				b.Fatal(err)
			}
		}
		o, m, err := medianReads(origin, mount, readReps*2, openTracks*openTrack, buf)
		if err != nil {
			b.Fatal(err)
		}
		return o, m
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }

	var cs []comparison
	for b.Loop() {
		cs = cs[:0]
		// Every open hashes: FreshFor is as short as it gets.
		d, mount, blobs := cachedAlbum(b, lib, func(c *cas.Config) { c.FreshFor = time.Nanosecond })
		blob, err := blobOf(blobs, origin[0])
		if err != nil {
			b.Fatal(err)
		}
		passed := promtest.Value(b, d.Registry, "musicfs_fuse_passthrough_opens_total")
		for _, cold := range []bool{true, false} {
			ds, err := openLatencies(mount[0], blob, opens, cold)
			if err != nil {
				b.Fatal(err)
			}
			what := map[bool]string{true: "cold", false: "warm"}[cold]
			cs = append(cs,
				comparison{name: "open 30 MB, hashed at open, " + what + ", p50", unit: "ms", mount: ms(percentile(ds, 0.5))},
				comparison{name: "open 30 MB, hashed at open, " + what + ", p99", unit: "ms", mount: ms(percentile(ds, 0.99))})
		}
		if n := promtest.Value(b, d.Registry, "musicfs_fuse_passthrough_opens_total") - passed; n < 2*opens*9/10 {
			b.Fatalf("only %v of %d opens passed through: not measuring passthrough", n, 2*opens)
		}
		ot, mt := seqRead(mount)
		cs = append(cs, comparison{name: "sequential read, warm, hashed at every open", unit: "MB/s",
			origin: mbPerSec(openTracks*openTrack, ot), mount: mbPerSec(openTracks*openTrack, mt), higher: true})
		d.App.RequireStop()

		// Production settings: opens within 5 s of a hash do not hash.
		d, mount, _ = cachedAlbum(b, lib, func(*cas.Config) {})
		ds, err := openLatencies(mount[0], "", opens, false)
		if err != nil {
			b.Fatal(err)
		}
		cs = append(cs,
			comparison{name: "open 30 MB, warm, hashed < 5 s ago, p50", unit: "ms", mount: ms(percentile(ds, 0.5))},
			comparison{name: "open 30 MB, warm, hashed < 5 s ago, p99", unit: "ms", mount: ms(percentile(ds, 0.99))})
		ot, mt = seqRead(mount)
		cs = append(cs, comparison{name: "sequential read, warm (production settings)", unit: "MB/s",
			origin: mbPerSec(openTracks*openTrack, ot), mount: mbPerSec(openTracks*openTrack, mt), higher: true, limit: 0.9})
		d.App.RequireStop()
	}
	for i, unit := range []string{"cold_p50_ms", "cold_p99_ms", "warm_p50_ms", "warm_p99_ms"} {
		b.ReportMetric(cs[i].mount, unit)
	}
	b.ReportMetric(cs[4].ratio(), "hashed_x_origin")
	b.ReportMetric(cs[7].ratio(), "x_origin")
	title := fmt.Sprintf("BenchmarkPassthroughOpen: %d × 30 MB album, %d opens each, %d MiB reads (%s)",
		openTracks, opens, readBufSize>>20, loadAvg())
	if err := writeTable(os.Stdout, title, cs); err != nil {
		b.Fatal(err)
	}
}
