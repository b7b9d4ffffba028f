package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap/zapcore"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/cas"
)

// casTuned shortens the cache's integrity intervals, so that tests wait
// milliseconds for what takes seconds in production.
func casTuned(f func(c *cas.Config)) fx.Option {
	return fx.Decorate(func(c cas.Config) cas.Config {
		c.OpenCheckInterval = 20 * time.Millisecond
		f(&c)
		return c
	})
}

// readHeld reads an open file of the mount from its start until the end
// (or an error), as a player that opened it before anything went wrong.
// Its reads are of one aligned size, as O_DIRECT (which some tests use)
// demands; io.ReadAll's growing buffer gets EINVAL there.
func readHeld(f *os.File) ([]byte, error) {
	var out bytes.Buffer
	buf := make([]byte, 128<<10)
	for off := int64(0); ; {
		n, err := f.ReadAt(buf, off)
		out.Write(buf[:n])
		off += int64(n)
		if errors.Is(err, io.EOF) {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
	}
}

// waitRepair waits for the cache to report a repair with the given result.
func waitRepair(t *testing.T, d *daemon, result string) {
	t.Helper()
	mounttest.Eventually(t, 10*time.Second, "a repair "+result, func() bool {
		return promtest.Value(t, d.Registry, "musicfs_cache_repairs_total", "result", result) >= 1
	})
}

// A file passed through to the kernel (which then reads the cached copy
// with no check of the daemon's) and damaged while a player holds it open:
// the damage is found by the watch of open files and repaired in the file
// itself, so the player's descriptor reads correct bytes. With the origin
// offline it cannot be repaired: the descriptor never reads the damaged
// bytes (its reads end at the damaged block), one ERROR names the track,
// and a new open fails.
func TestPassthroughHeldBlobDamaged(t *testing.T) {
	for _, offline := range []bool{false, true} {
		t.Run(map[bool]string{false: "origin online", true: "origin offline"}[offline], func(t *testing.T) {
			lib, rels := cacheLib(t, 1, 3<<20)
			var f *faults.Flaky
			d := startDaemon(t, lib, flaky(&f), casTuned(func(*cas.Config) {}))
			vp := "Origins/lib/" + rels[0]
			mustPlay(t, d, rels[0])
			blobs := settled(t, d)
			held := passThrough(t, d, vp)
			defer held.Close()
			want := readFile(t, filepath.Join(lib, rels[0]))
			if got, err := readHeld(held); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("passed-through read before the damage: %v", err)
			}
			f.SetOffline(offline)
			const damaged = 1<<20 + 4321
			faults.FlipByte(t, blobs[0], damaged)
			if !offline {
				waitRepair(t, d, "repaired")
				if got, err := readHeld(held); err != nil || !bytes.Equal(got, want) {
					t.Fatalf("held descriptor after the repair: %v, %d bytes, right %v", err, len(got), bytes.Equal(got, want))
				}
				mustPlay(t, d, rels[0])
				return
			}
			waitRepair(t, d, "failed")
			got, err := readHeld(held)
			if !bytes.Equal(got, want[:len(got)]) {
				t.Fatal("the held descriptor read wrong bytes")
			}
			if err == nil && len(got) == len(want) || len(got) > damaged {
				t.Fatalf("the held descriptor read %d bytes (%v): past the damage at %d", len(got), err, damaged)
			}
			errs := d.Logs.FilterLevelExact(zapcore.ErrorLevel)
			if errs.Len() != 1 || !strings.Contains(fmt.Sprint(errs.All()[0].ContextMap()["tracks"]), rels[0]) {
				t.Fatalf("want one ERROR naming the track, got %v", errs.All())
			}
			if got, err := play(d.Path(vp)); err == nil || !bytes.Equal(got, want[:len(got)]) {
				t.Fatalf("new open with the damage and the origin offline: %v after %d bytes; want an error, no wrong bytes", err, len(got))
			}
		})
	}
}

// Damage below the filesystem (a failing disk: the file's size, mtime and
// ctime stay as they were) is what no stamp can see. A new open of a
// cached file damaged that way since it was last verified is hashed whole
// at open, so it gets correct bytes (the damaged block fetched again) or,
// with the origin offline, EIO; never the damaged bytes. A file held open
// meanwhile is rehashed at the open files' priority interval and repaired
// in place.
func TestSilentDamage(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		held, offline, daemon bool // daemon: cache.passthrough: off
	}{
		{"new open, origin online", false, false, false},
		{"new open, origin offline", false, true, false},
		{"held open, origin online", true, false, false},
		// With passthrough off every read is checked before it is served:
		// no rehash needs to come first.
		{"passthrough off, held open, origin online", true, false, true},
		{"passthrough off, held open, origin offline", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			disk := faults.NewLoopFS(t, 64<<20)
			lib, rels := cacheLib(t, 1, 3<<20)
			var f *faults.Flaky
			cacheDir := filepath.Join(disk.Dir, "cache")
			d := startDaemon(t, lib, flaky(&f),
				configure(func(c *app.Config) {
					c.Cache.Store.Dir = cacheDir
					if tc.daemon {
						c.Cache.Store.Passthrough = cas.PassthroughOff
					}
				}),
				casTuned(func(c *cas.Config) {
					c.FreshFor = time.Nanosecond // every open hashes
					c.OpenScrubInterval = 50 * time.Millisecond
					if tc.daemon {
						c.OpenScrubInterval = time.Hour
					}
				}))
			d.Config.Cache.Store.Dir = cacheDir // for settled
			vp := "Origins/lib/" + rels[0]
			want := readFile(t, filepath.Join(lib, rels[0]))
			mustPlay(t, d, rels[0])
			blobs := settled(t, d)
			var held *os.File
			if tc.daemon {
				var err error
				if held, err = os.OpenFile(d.Path(vp), os.O_RDONLY|syscall.O_DIRECT, 0); err != nil {
					t.Fatal(err)
				}
			} else {
				held = passThrough(t, d, vp) // verified now
			}
			if !tc.held {
				held.Close()
			} else {
				defer held.Close()
			}
			f.SetOffline(tc.offline)
			const damaged = 2<<20 + 17
			disk.FlipUnderneath(t, blobs[0], damaged)

			if tc.held {
				if !tc.daemon {
					waitRepair(t, d, "repaired")
				}
				got, err := readHeld(held)
				switch {
				case !bytes.Equal(got, want[:min(len(got), len(want))]):
					t.Fatal("held descriptor read wrong bytes")
				case tc.offline && err == nil:
					t.Fatal("held descriptor read the damaged file whole with the origin offline")
				case !tc.offline && (err != nil || len(got) != len(want)):
					t.Fatalf("held descriptor after the repair: %v, %d bytes", err, len(got))
				}
				return
			}
			// The kernel reports the close asynchronously; until the
			// daemon has it, the new open may fail (never wrong bytes).
			mounttest.Eventually(t, 5*time.Second, "a new open served", func() bool {
				got, err := play(d.Path(vp))
				if !bytes.Equal(got, want[:min(len(got), len(want))]) || len(got) > len(want) {
					t.Fatalf("new open after silent damage: %d bytes, wrong ones among them", len(got))
				}
				switch {
				case tc.offline && errors.Is(err, syscall.EIO):
					return true
				case tc.offline && err == nil:
					t.Fatal("silently damaged blob read whole with the origin offline")
				}
				return err == nil
			})
			if n := promtest.Value(t, d.Registry, "musicfs_cache_integrity_failures_total"); n < 1 {
				t.Fatal("silent damage not counted")
			}
		})
	}
}
