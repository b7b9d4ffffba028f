package e2e

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"
	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/config"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/prefetch"
)

// cacheLib writes files WriteBig tracks of size bytes and returns their
// relpaths; the cache tests play them through Origins/lib/, whose paths are
// the origin's own.
func cacheLib(t *testing.T, files int, size int64) (lib string, rels []string) {
	t.Helper()
	lib = t.TempDir()
	if err := audiogen.WriteBig(lib, files, size); err != nil {
		t.Fatal(err)
	}
	for i := range files {
		rel, _ := audiogen.BigTrack(i)
		rels = append(rels, rel)
	}
	return lib, rels
}

// flaky puts a Flaky in front of the origins; it starts healthy and fast.
func flaky(f **faults.Flaky) fx.Option {
	return fx.Decorate(func(s origins.Set) origins.Set {
		*f = faults.NewFlaky(s, 0, 0)
		return *f
	})
}

// play reads a whole file with O_DIRECT, so every read is a request to the
// daemon (or, for a passed-through file, to the cache file) rather than an
// answer from the mount's page cache.
func play(p string) ([]byte, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out bytes.Buffer
	buf := make([]byte, 128<<10)
	for {
		n, err := f.Read(buf)
		out.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
	}
}

// mustPlay plays the virtual Origins/lib/rel and checks it is byte for byte
// the origin file.
func mustPlay(t *testing.T, d *daemon, rel string) {
	t.Helper()
	got, err := play(d.Path("Origins/lib/" + rel))
	if err != nil {
		t.Fatalf("play %s: %v", rel, err)
	}
	if want := readFile(t, filepath.Join(d.Lib, rel)); !bytes.Equal(got, want) {
		t.Fatalf("play %s: %d bytes differ from the origin's %d", rel, len(got), len(want))
	}
}

// cacheFiles lists the files under the cache's dir/sub (blobs, fill, tmp).
func cacheFiles(t *testing.T, d *daemon, sub string) []string {
	t.Helper()
	var out []string
	root := filepath.Join(d.Config.Cache.Store.Dir, sub)
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if de.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cacheBytes is the disk space the cached data takes (allocated blocks).
func cacheBytes(t *testing.T, d *daemon) int64 {
	t.Helper()
	var n int64
	for _, sub := range []string{"blobs", "fill"} {
		for _, p := range cacheFiles(t, d, sub) {
			var st unix.Stat_t
			if err := unix.Stat(p, &st); err == nil {
				n += st.Blocks * 512
			}
		}
	}
	return n
}

// settled waits until every fill file has been promoted to a blob (which
// happens in the background once a track is complete) and returns the blobs.
func settled(t *testing.T, d *daemon) []string {
	t.Helper()
	mounttest.Eventually(t, 5*time.Second, "complete tracks promoted to blobs", func() bool {
		return len(cacheFiles(t, d, "fill")) == 0
	})
	return cacheFiles(t, d, "blobs")
}

// A slow origin (20 ms per read, 4 MB/s): the first play is byte-identical;
// after a restart (no page cache left) the second play reads nothing from
// the origin.
func TestCacheSecondPlayFromCache(t *testing.T) {
	lib, rels := cacheLib(t, 2, 3<<20)
	var f *faults.Flaky
	d := startDaemon(t, lib, flaky(&f))
	f.Latency, f.Rate = 20*time.Millisecond, 4_000_000
	f.Reset()
	mustPlay(t, d, rels[0])
	if n := f.BytesOf(rels[0]); n < 3<<20 {
		t.Fatalf("first play read %d bytes from the origin, want the whole file", n)
	}
	d.Restart(t, flaky(&f))
	f.Latency, f.Rate = 20*time.Millisecond, 4_000_000
	f.Reset()
	mustPlay(t, d, rels[0])
	if n := f.BytesOf(rels[0]); n != 0 {
		t.Fatalf("second play read %d bytes from the origin, want 0", n)
	}
	if hits := promtest.Value(t, d.Registry, "musicfs_cache_hit_bytes_total"); hits == 0 && promtest.Value(t, d.Registry, "musicfs_fuse_passthrough_opens_total") == 0 {
		t.Fatal("the second play was neither a cache hit nor passed through")
	}
}

// Offline after caching: the cached track plays; an uncached one fails with
// EIO within read_timeout + 1 s, also when the origin hangs; when the origin
// is back, reads work again without a restart.
func TestCacheOffline(t *testing.T) {
	lib, rels := cacheLib(t, 3, 2<<20)
	var f *faults.Flaky
	d := startDaemon(t, lib, flaky(&f), configure(func(c *app.Config) { c.Origins.ReadTimeout = 2 * time.Second }))
	mustPlay(t, d, rels[0])

	f.SetOffline(true)
	mustPlay(t, d, rels[0])
	start := time.Now()
	if _, err := play(d.Path("Origins/lib/" + rels[1])); !errors.Is(err, syscall.EIO) {
		t.Fatalf("uncached track with the origin offline: %v, want EIO", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("EIO took %v, want ≤ read_timeout + 1 s", took)
	}
	f.SetOffline(false)

	f.Hang()
	t.Cleanup(f.Resume)
	start = time.Now()
	if _, err := play(d.Path("Origins/lib/" + rels[2])); !errors.Is(err, syscall.EIO) {
		t.Fatalf("uncached track with the origin hung: %v, want EIO", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("EIO took %v with a hung origin, want ≤ read_timeout + 1 s", took)
	}
	mustPlay(t, d, rels[0])
	f.Resume()

	mustPlay(t, d, rels[1])
	mustPlay(t, d, rels[2])
}

// A flipped byte in a complete blob or in a fill file is never served: the
// block is fetched again (counter bumped), or with the origin offline the
// read fails.
func TestCacheCorruption(t *testing.T) {
	lib, rels := cacheLib(t, 2, 8<<20)
	var f *faults.Flaky
	// No prefetch: it would complete the second track while the first plays.
	d := startDaemon(t, lib, flaky(&f), fx.Supply(prefetch.Config{NextTracks: -1, Window: -1}))
	mustPlay(t, d, rels[0])
	blobs := settled(t, d)
	if len(blobs) != 1 {
		t.Fatalf("after one full play: blobs %q, want one", blobs)
	}
	faults.FlipByte(t, blobs[0], 1000)
	mustPlay(t, d, rels[0])
	failures := promtest.Value(t, d.Registry, "musicfs_cache_integrity_failures_total")
	if failures < 1 {
		t.Fatal("a corrupt blob was not counted")
	}
	settled(t, d)

	// The head of the second track, and the blocks read ahead of it: a fill
	// file, no blob yet.
	head := make([]byte, 1<<20)
	file, err := os.OpenFile(d.Path("Origins/lib/"+rels[1]), os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(file, head); err != nil {
		t.Fatal(err)
	}
	file.Close()
	fills := cacheFiles(t, d, "fill")
	if len(fills) != 1 {
		t.Fatalf("after the head and its read-ahead: fill files %q, want one", fills)
	}
	faults.FlipByte(t, fills[0], 10)
	mustPlay(t, d, rels[1])
	if n := promtest.Value(t, d.Registry, "musicfs_cache_integrity_failures_total"); n <= failures {
		t.Fatal("a corrupt fill block was not counted")
	}

	// Corrupt again with the origin gone: an error, never wrong bytes.
	blobs = settled(t, d)
	for _, b := range blobs {
		faults.FlipByte(t, b, 5000)
	}
	f.SetOffline(true)
	for _, rel := range rels {
		got, err := play(d.Path("Origins/lib/" + rel))
		if err == nil {
			t.Fatalf("%s: corrupt cache and origin offline, but the read succeeded", rel)
		}
		if want := readFile(t, filepath.Join(lib, rel)); !bytes.Equal(got, want[:len(got)]) {
			t.Fatalf("%s: wrong bytes served before the error", rel)
		}
	}
}

// Sixteen players start the same uncached track at once: every block comes
// from the origin once.
func TestCacheConcurrentReadersFetchOnce(t *testing.T) {
	lib, rels := cacheLib(t, 1, 4<<20)
	var f *faults.Flaky
	d := startDaemon(t, lib, flaky(&f))
	f.Latency = 5 * time.Millisecond
	f.Reset()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	want := readFile(t, filepath.Join(lib, rels[0]))
	for range 16 {
		wg.Go(func() {
			got, err := play(d.Path("Origins/lib/" + rels[0]))
			if err == nil && !bytes.Equal(got, want) {
				err = errors.New("bytes differ")
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.BytesOf(rels[0]); n != int64(len(want)) {
		t.Fatalf("origin bytes read for 16 concurrent plays: %d, want exactly the file's %d", n, len(want))
	}
}

// The same file in two origins is stored once.
func TestCacheDeduplicates(t *testing.T) {
	lib, rels := cacheLib(t, 1, 2<<20)
	twin := t.TempDir()
	if err := audiogen.WriteBig(twin, 1, 2<<20); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, lib, configure(func(c *app.Config) {
		c.Origins.Origins = append(c.Origins.Origins[:1:1], origins.OriginConfig{Name: "twin", Path: twin, Watch: true, Cache: true})
	}))
	mustPlay(t, d, rels[0])
	got, err := play(d.Path("Origins/twin/" + rels[0]))
	if err != nil || !bytes.Equal(got, readFile(t, filepath.Join(twin, rels[0]))) {
		t.Fatalf("play the twin: %v", err)
	}
	if blobs := settled(t, d); len(blobs) != 1 {
		t.Fatalf("blobs %q, want one for two identical files", blobs)
	}
}

// Playing 200 MiB through a 50 MiB cache keeps it within 50 MiB plus one
// block, evicts the least recently played first, and keeps a pinned album,
// which is fetched in full without being played.
func TestCacheEvictionAndPinning(t *testing.T) {
	const size = 10 << 20
	lib, rels := cacheLib(t, 20, size)
	pinned := filepath.Join(lib, "Pinned Artist", "Pinned Album")
	if err := audiogen.WriteBig(pinned, 2, 4<<20); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, lib, configure(func(c *app.Config) {
		c.Cache.Limits.MaxSize = 50 * config.MiB
		c.Cache.Limits.MinFree = config.MinFree{}
		c.Cache.Limits.Pin = []string{"Origins/lib/Pinned Artist/**"}
	}))
	const limit = 50<<20 + 1<<20
	// The pinned album (8 MiB) arrives in the background.
	mounttest.Eventually(t, 20*time.Second, "the pinned album fetched", func() bool {
		return len(cacheFiles(t, d, "blobs")) == 2
	})
	pinnedBlobs := cacheFiles(t, d, "blobs")
	for _, rel := range rels {
		mustPlay(t, d, rel)
		if n := cacheBytes(t, d); n > limit {
			t.Fatalf("after playing %s the cache holds %d bytes, over %d", rel, n, limit)
		}
	}
	for _, b := range pinnedBlobs {
		if _, err := os.Stat(b); err != nil {
			t.Fatalf("pinned blob evicted: %v", err)
		}
	}
	if n := promtest.Value(t, d.Registry, "musicfs_cache_evictions_total"); n == 0 {
		t.Fatal("no evictions counted")
	}
	// The most recent tracks are still cached, the first ones are not.
	var f *faults.Flaky
	d.Restart(t, flaky(&f))
	f.Reset()
	mustPlay(t, d, rels[len(rels)-1])
	if n := f.BytesOf(rels[len(rels)-1]); n != 0 {
		t.Fatalf("the last track played was evicted (%d origin bytes)", n)
	}
	mustPlay(t, d, rels[0])
	if n := f.BytesOf(rels[0]); n == 0 {
		t.Fatal("the least recently played track is still cached")
	}
}

// A full cache disk (a 20 MiB tmpfs with max_size 1 GiB) does not stop
// playback: reads are served from the origin.
func TestCacheDiskFull(t *testing.T) {
	mounttest.RequireFUSE(t)
	lib, rels := cacheLib(t, 4, 8<<20)
	dir := filepath.Join(t.TempDir(), "tmpfs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=20m,mode=0700"); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount tmpfs: %v", err)
		}
	})
	d := startDaemon(t, lib, configure(func(c *app.Config) {
		c.Cache.Store.Dir = dir
		c.Cache.Limits.MaxSize = config.GiB
	}))
	for range 2 {
		for _, rel := range rels {
			mustPlay(t, d, rel)
		}
	}
	if n := d.Logs.FilterMessageSnippet("panic").Len(); n != 0 {
		t.Fatalf("%d panics logged", n)
	}
}

// passThrough opens the virtual path p once its open is handed to the
// kernel. The kernel tells the daemon of closes asynchronously, and until
// the daemon has heard of the last page-cache open (a play of the partial
// track) it must not pass the file through, so the first opens after a
// track completes may still be served by the daemon.
func passThrough(t *testing.T, d *daemon, p string) *os.File {
	t.Helper()
	var f *os.File
	mounttest.Eventually(t, 5*time.Second, p+" passed through", func() bool {
		before := promtest.Value(t, d.Registry, "musicfs_fuse_passthrough_opens_total")
		g, err := os.OpenFile(d.Path(p), os.O_RDONLY|syscall.O_DIRECT, 0)
		if err != nil {
			t.Fatal(err)
		}
		if promtest.Value(t, d.Registry, "musicfs_fuse_passthrough_opens_total") > before {
			f = g
			return true
		}
		g.Close()
		return false
	})
	return f
}

// A complete cached file is handed to the kernel (passthrough) when it is
// opened, and the kernel then reads it without the daemon; with
// cache.passthrough: off, the daemon serves it, with the same bytes.
func TestCachePassthrough(t *testing.T) {
	for _, off := range []bool{false, true} {
		t.Run(map[bool]string{false: "on", true: "off"}[off], func(t *testing.T) {
			lib, rels := cacheLib(t, 1, 2<<20)
			d := startDaemon(t, lib, configure(func(c *app.Config) {
				c.Cache.Store.Passthrough = map[bool]string{false: cas.PassthroughAuto, true: cas.PassthroughOff}[off]
			}))
			mustPlay(t, d, rels[0])
			settled(t, d)
			if !off {
				passThrough(t, d, "Origins/lib/"+rels[0]).Close()
			}
			served := promtest.Value(t, d.Registry, "musicfs_cache_hit_bytes_total")
			mustPlay(t, d, rels[0])
			opens := promtest.Value(t, d.Registry, "musicfs_fuse_passthrough_opens_total")
			served = promtest.Value(t, d.Registry, "musicfs_cache_hit_bytes_total") - served
			if off && (opens != 0 || served != 2<<20) || !off && (opens == 0 || served != 0) {
				t.Fatalf("passthrough off=%v: %v passthrough opens, the daemon served %v cached bytes", off, opens, served)
			}
		})
	}
}

// A file rewritten in place on the origin with the same size: reads after
// the restart (which loads the old record from the persisted index) never
// mix versions; the watcher brings the new record and its bytes.
func TestCacheOriginChangedSameSize(t *testing.T) {
	lib, rels := cacheLib(t, 1, 2<<20)
	d := startDaemon(t, lib)
	p := filepath.Join(lib, rels[0])
	data := readFile(t, p)
	for i := range data[1<<20:] {
		data[1<<20+i] ^= 0x5a
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mounttest.Eventually(t, changeDeadline, "the rewritten file's bytes", func() bool {
		got, err := play(d.Path("Origins/lib/" + rels[0]))
		return err == nil && bytes.Equal(got, data)
	})
}

// Playing a track fetches the head of the next one of its album in the
// background: the player's next open starts from the cache.
func TestPrefetchNextTrackHead(t *testing.T) {
	lib, rels := cacheLib(t, 3, 4<<20)
	var f *faults.Flaky
	d := startDaemon(t, lib, flaky(&f))
	f.Reset()
	// Played as a player does, the track open until it ends: closing it
	// ends its session's prefetching, and reading 4 MiB from the cache
	// can take less time than the prefetch worker needs to start.
	playing, err := os.OpenFile(d.Path("Origins/lib/"+rels[0]), os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer playing.Close()
	// Past prefetch's PlayAfter (2 MiB), short of the end.
	if _, err := io.ReadFull(playing, make([]byte, 3<<20)); err != nil {
		t.Fatal(err)
	}
	mounttest.Eventually(t, 5*time.Second, "the next track's head fetched", func() bool {
		return f.BytesOf(rels[1]) >= 2<<20
	})
	if _, err := io.Copy(io.Discard, playing); err != nil {
		t.Fatal(err)
	}
	fetched := f.BytesOf(rels[1])
	head := make([]byte, 64<<10)
	file, err := os.OpenFile(d.Path("Origins/lib/"+rels[1]), os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	if _, err := io.ReadFull(file, head); err != nil {
		t.Fatal(err)
	}
	if n := f.BytesOf(rels[1]); n != fetched {
		t.Fatalf("opening the next track read %d more bytes from the origin", n-fetched)
	}
	if want := readFile(t, filepath.Join(lib, rels[1]))[:len(head)]; !bytes.Equal(head, want) {
		t.Fatal("the prefetched head differs from the origin")
	}
	// The track after next gets its head too (next_tracks: 2), no more.
	if n := f.BytesOf(rels[2]); n > 2<<20 {
		t.Fatalf("%d bytes of the track after next fetched, want at most its head", n)
	}
}

// A real player decodes every track through the mount: first through the
// cache as it fills, then from the cache (passed through) with the origin
// offline, with the same decoded audio both times.
func TestFFmpegDecodesThroughTheCache(t *testing.T) {
	ffmpeg := mounttest.RequireTool(t, "ffmpeg")
	var f *faults.Flaky
	d := startDaemon(t, writeLib(t, audiogen.StandardLibrary()), flaky(&f))
	decode := func(p string) []byte {
		t.Helper()
		var out, errs bytes.Buffer
		cmd := exec.Command(ffmpeg, "-nostdin", "-v", "error", "-i", p, "-f", "s16le", "-acodec", "pcm_s16le", "-")
		cmd.Stdout, cmd.Stderr = &out, &errs
		if err := cmd.Run(); err != nil || errs.Len() > 0 {
			t.Fatalf("ffmpeg %s: %v: %s", p, err, errs.Bytes())
		}
		return out.Bytes()
	}
	var tracks []string
	for _, p := range walkFiles(t, d.Mountpoint, "Artists") {
		if ext := filepath.Ext(p); ext == ".flac" || ext == ".mp3" {
			tracks = append(tracks, p)
		}
	}
	if len(tracks) < 10 {
		t.Fatalf("only %d tracks under Artists/", len(tracks))
	}
	first := map[string][]byte{}
	for _, p := range tracks {
		first[p] = decode(filepath.Join(d.Mountpoint, p))
	}
	settled(t, d)
	f.SetOffline(true)
	for _, p := range tracks {
		if !bytes.Equal(decode(filepath.Join(d.Mountpoint, p)), first[p]) {
			t.Fatalf("%s decodes differently from the cache", p)
		}
	}
}

// go-fuse registers one backing file per inode and the kernel then serves
// every open of the inode from it while one is open. A new open must never
// get an old version's cached file (the origin file changed while a player
// held the old one: that is a new kernel inode), nor one found damaged
// (that open waits for the repair in place, or fails until the holder
// closes; then the track is fetched again): never wrong bytes.
func TestPassthroughNeverServesAStaleCopy(t *testing.T) {
	for _, tc := range []string{"origin changed", "blob damaged"} {
		t.Run(tc, func(t *testing.T) {
			lib, rels := cacheLib(t, 1, 2<<20)
			d := startDaemon(t, lib)
			vp := d.Path("Origins/lib/" + rels[0])
			mustPlay(t, d, rels[0])
			blobs := settled(t, d)
			held := passThrough(t, d, "Origins/lib/"+rels[0])
			defer held.Close()
			p := filepath.Join(lib, rels[0])
			want := readFile(t, p)
			switch tc {
			case "origin changed":
				for i := range want {
					want[i] ^= 0x5a
				}
				if err := os.WriteFile(p, want, 0o644); err != nil {
					t.Fatal(err)
				}
				fi, _ := os.Stat(p)
				mounttest.Eventually(t, 5*time.Second, "the new version in the tree", func() bool {
					n := d.Tree.Current().LookupPath("Origins/lib/" + rels[0])
					return n != nil && n.ModTime().Equal(fi.ModTime())
				})
			case "blob damaged":
				faults.FlipByte(t, blobs[0], 1000)
				if got, err := play(vp); err == nil && !bytes.Equal(got, want) || err != nil && !bytes.Equal(got, want[:len(got)]) {
					t.Fatalf("open while the damaged copy is held: %v, %d bytes; want the right bytes or an error", err, len(got))
				}
				held.Close()
			}
			// The kernel tells the daemon of a close asynchronously: a
			// reopen right after it may still fail, never with wrong bytes.
			mounttest.Eventually(t, 5*time.Second, "the current version served", func() bool {
				got, err := play(vp)
				if err == nil && !bytes.Equal(got, want) {
					t.Fatalf("%d bytes served differ from the origin's", len(got))
				}
				return err == nil
			})
		})
	}
}

// A fully cached track is read by the kernel, not the daemon; kept open
// like a player does, it still gets the next track's head fetched.
func TestPrefetchAfterAPassedThroughTrack(t *testing.T) {
	lib, rels := cacheLib(t, 2, 4<<20)
	var f *faults.Flaky
	d := startDaemon(t, lib, flaky(&f), fx.Supply(prefetch.Config{NextTracks: -1}))
	mustPlay(t, d, rels[0])
	settled(t, d)
	d.Restart(t, flaky(&f)) // prefetch on again; the first track is a blob
	f.Reset()
	held := passThrough(t, d, "Origins/lib/"+rels[0])
	defer held.Close()
	mounttest.Eventually(t, 10*time.Second, "the next track's head fetched", func() bool {
		return f.BytesOf(rels[1]) >= 2<<20
	})
}
