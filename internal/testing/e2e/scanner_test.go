package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/config"
)

// The scanner test's library (issue 9): 2,000 tracks of about 2 MiB (5,017
// MP3 frames), of which five albums (50 tracks) are played. At 2 MiB a
// track spans two 1 MiB cache blocks, so its 64 KiB head is a small part
// of it, and the library stays at 4 GiB.
const (
	scanTracks = 2000
	scanFrames = 5017
	scanHead   = 64 << 10
)

// scanPlayedAlbums are the albums played in full before the scan, ten
// tracks each, spread over the library.
var scanPlayedAlbums = []int{0, 40, 80, 120, 160}

// scanResult is what one scanner pass cost.
type scanResult struct {
	read        int64 // bytes the scanner read
	originBytes int64 // bytes the cache fetched from the origin meanwhile
	cacheGrowth int64 // growth of the disk space cache.dir takes
}

func (r scanResult) originRatio() float64 { return float64(r.originBytes) / float64(r.read) }
func (r scanResult) growthRatio() float64 { return float64(r.cacheGrowth) / float64(r.read) }

func (r scanResult) String() string {
	return fmt.Sprintf("scanner read %.1f MiB; origin read %.1f MiB (%.2fx); cache grew %.1f MiB (%.2fx)",
		mib(r.read), mib(r.originBytes), r.originRatio(), mib(r.cacheGrowth), r.growthRatio())
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// A library scanner (beets, Navidrome, mpd's first scan) opens every file,
// reads its head and closes it. Issue 9: that must neither pull whole cache
// blocks from the origin nor evict the music that was played. Five albums
// are played in full, then every one of 2,000 tracks has its first 64 KiB
// read; afterwards the played tracks still play with the origin offline,
// and, with a cache larger than the library, the scan read at most 1.5x
// its bytes from the origin and grew the cache by at most 2x. With a cache
// that holds the played albums but not 2,000 heads of 1 MiB, keeping the
// played tracks is what counts.
func TestScannerDoesNotFlushCache(t *testing.T) {
	lib := t.TempDir()
	all := writeScanLib(t, lib, scanTracks)
	var played []string
	for _, a := range scanPlayedAlbums {
		played = append(played, all[a*10:a*10+10]...)
	}
	tests := []struct {
		name    string
		maxSize config.Size
		bounded bool // assert the scan's origin bytes and cache growth
	}{
		{"cache larger than the library", 8 * config.GiB, true},
		// 50 played tracks take 100 MiB; 2,000 heads of a 1 MiB block would
		// take 2 GB, and even 2,000 × 64 KiB would not fit beside them.
		{"cache smaller than the library", 128 * config.MiB, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var f *faults.Flaky
			d := startDaemon(t, lib, flaky(&f), configure(func(c *app.Config) {
				c.Cache.Limits.MaxSize = tc.maxSize
				c.Cache.Limits.MinFree = config.MinFree{}
			}))
			for _, rel := range played {
				mustPlay(t, d, rel)
			}
			if blobs := settled(t, d); len(blobs) != len(played) {
				t.Fatalf("after playing %d tracks the cache holds %d complete ones: the setup is wrong", len(played), len(blobs))
			}

			res := scan(t, d, all)
			t.Logf("%s, max_size %.0f MiB: %v", tc.name, mib(int64(tc.maxSize)), res)
			if tc.bounded {
				if r := res.originRatio(); r > 1.5 {
					t.Errorf("scanner pass read %.1f MiB from the origin for %.1f MiB read by the scanner: %.2fx, want ≤ 1.5x",
						mib(res.originBytes), mib(res.read), r)
				}
				if r := res.growthRatio(); r > 2 {
					t.Errorf("scanner pass grew the cache by %.1f MiB for %.1f MiB read by the scanner: %.2fx, want ≤ 2x",
						mib(res.cacheGrowth), mib(res.read), r)
				}
			}

			// Played means cached: every played track plays, byte for
			// byte, with the origin offline.
			f.SetOffline(true)
			var lost []string
			for _, rel := range played {
				got, err := play(d.Path("Origins/lib/" + rel))
				if err == nil && !bytes.Equal(got, readFile(t, filepath.Join(lib, rel))) {
					t.Fatalf("%s: wrong bytes served from the cache", rel)
				}
				if err != nil {
					lost = append(lost, fmt.Sprintf("%s: %v", rel, err))
				}
			}
			f.SetOffline(false)
			if len(lost) > 0 {
				t.Errorf("after the scanner pass %d of %d played tracks are no longer fully cached (%v); first:\n%s",
					len(lost), len(played), res, lost[0])
			}
		})
	}
}

// writeScanLib writes n tagged MP3s of scanFrames frames laid out by
// audiogen.LargeTrack, and returns their relpaths. audiogen.WriteLarge
// builds every frame of every file, which takes 20 s for 4 GiB and minutes
// under -race; the frames after the first (which carries the seed) are
// the same in every file, so each file here is its own tag and first frame
// from audiogen.MP3 followed by one shared run of the others. That it
// equals audiogen.MP3's whole file is checked on the first two.
func writeScanLib(t *testing.T, dir string, n int) []string {
	t.Helper()
	head := func(tags audiogen.Tags, seed int64, frames int) []byte {
		return audiogen.MP3(tags, audiogen.MP3Options{ID3v2: 4, Frames: frames, Seed: seed})
	}
	_, t0 := audiogen.LargeTrack(0)
	tail := head(t0, 1, scanFrames)[len(head(t0, 1, 1)):]
	var rels []string
	for i := range n {
		rel, tags := audiogen.LargeTrack(i)
		rels = append(rels, rel)
		first := head(tags, int64(i)+1, 1)
		if i < 2 && !bytes.Equal(append(slices.Clip(first), tail...), head(tags, int64(i)+1, scanFrames)) {
			t.Fatalf("%s: a shared run of frames does not make audiogen.MP3's file", rel)
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.Write(first)
		if err == nil {
			_, err = f.Write(tail)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return rels
}

// scan reads the first 64 KiB of every file under Origins/lib, each opened
// and closed, and returns what it cost. The reads are O_DIRECT, so that
// the daemon is asked for exactly the scanner's bytes, not for the
// kernel's readahead around them (which the daemon does not choose).
func scan(t *testing.T, d *daemon, rels []string) scanResult {
	t.Helper()
	origin := func() int64 {
		return int64(promtest.Value(t, d.Registry, "musicfs_origin_read_bytes_total", "origin", "lib"))
	}
	var r scanResult
	o0, c0 := origin(), diskUsage(t, d)
	buf := make([]byte, scanHead)
	for _, rel := range rels {
		n, err := readHead(d.Path("Origins/lib/"+rel), buf)
		if err != nil {
			t.Fatalf("scan %s: %v", rel, err)
		}
		r.read += int64(n)
	}
	r.originBytes = origin() - o0
	r.cacheGrowth = diskUsage(t, d) - c0
	return r
}

// readHead opens p, reads len(buf) bytes from its start and closes it.
func readHead(p string, buf []byte) (int, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return io.ReadFull(f, buf)
}

// diskUsage is the disk space d's cache directory takes.
func diskUsage(t *testing.T, d *daemon) int64 {
	t.Helper()
	n, err := mounttest.DiskUsage(d.Config.Cache.Store.Dir)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
