package e2e

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/internal/testing/audiogen"
	"github.com/musicfs/musicfs/internal/testing/faults"
	"github.com/musicfs/musicfs/internal/testing/mounttest"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
)

// (b) A panic inside one FUSE request: that read gets EIO, the others keep
// working, the log has the stack and the panic counter is 1. The origin is
// uncached, so the origin read runs in the request itself (the cache's
// fetches contain their own panics: see modules/cas).
func TestPanicInOneRequest(t *testing.T) {
	const bad = "John Coltrane/Blue Train/02 Moment's Notice.flac"
	var fault *faults.PanicSet
	d := startDaemon(t, writeLib(t, audiogen.StandardLibrary()),
		configure(func(c *app.Config) {
			c.Origins.Origins = []origins.OriginConfig{{Name: "lib", Path: c.Origins.Origins[0].Path, Cache: false, Watch: true}}
		}),
		fx.Decorate(func(s origins.Set) origins.Set { fault = faults.PanicOnRead(s, bad); return fault }))
	fault.Arm() // after the scan, so only FUSE reads hit it

	// O_DIRECT: one read syscall is exactly one FUSE read (no readahead retry).
	f, err := os.OpenFile(d.Path("Artists/John Coltrane/Blue Train (1957)/02 Moment's Notice.flac"), os.O_RDONLY|syscall.O_DIRECT, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Read(make([]byte, 4096)); !errors.Is(err, syscall.EIO) {
		t.Fatalf("read of the panicking file: %v, want EIO", err)
	}
	for _, p := range []string{"Artists/John Coltrane/Blue Train (1957)/01 Blue Train.flac", "Origins/lib/Björk/Homogenic/01 Hunter.mp3"} {
		if _, err := os.ReadFile(d.Path(p)); err != nil {
			t.Fatalf("other read after the panic: %v", err)
		}
	}
	if n := promtest.Value(t, d.Registry, "musicfs_fuse_panics_total"); n != 1 {
		t.Fatalf("panic counter %v, want 1", n)
	}
	entries := d.Logs.FilterMessage("panic in FUSE request").All()
	if len(entries) != 1 || !strings.Contains(entries[0].ContextMap()["stack"].(string), "faults.PanickingFile.ReadAt") {
		t.Fatalf("want one panic log with the stack, got %v", entries)
	}
}

// (c) A panic in the middle of a tree rebuild: the previous snapshot keeps
// serving and concurrent readers never block.
func TestPanicInTreeRebuild(t *testing.T) {
	lib := writeLib(t, audiogen.StandardLibrary())
	var fault *faults.PanicSource
	d := startDaemon(t, lib, fx.Decorate(func(s index.Source) index.Source {
		fault = faults.NewPanicSource(s)
		return fault
	}))
	before := d.Tree.Current()

	// Readers hammer the mount while more rebuilds happen; none may block.
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			for {
				select {
				case <-stop:
					errs <- nil
					return
				default:
				}
				if _, err := os.ReadDir(d.Path("Artists/John Coltrane/Blue Train (1957)")); err != nil {
					errs <- err
					return
				}
				if _, err := os.Stat(d.Path("Albums/The Wall (1979) - Pink Floyd/2-01 Hey You.mp3")); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	// The rebuild for new1.txt panics: the old snapshot stays.
	fault.Arm()
	writeOriginFile(t, lib, "new1.txt")
	d.Index.Rescan()
	mounttest.Eventually(t, 5*time.Second, "the rebuild panic", func() bool { return fault.Panics() == 1 })
	if got := promtest.Value(t, d.Registry, "musicfs_tree_rebuild_panics_total"); got != 1 {
		t.Fatalf("rebuild panic counter %v, want 1", got)
	}
	if d.Tree.Current() != before {
		t.Fatal("a snapshot was published by the panicking rebuild")
	}
	// The next change rebuilds normally.
	writeOriginFile(t, lib, "new2.txt")
	d.Index.Rescan()
	mounttest.Eventually(t, 5*time.Second, "new files after a good rebuild", func() bool {
		_, err1 := os.Stat(d.Path("Origins/lib/new1.txt"))
		_, err2 := os.Stat(d.Path("Origins/lib/new2.txt"))
		return err1 == nil && err2 == nil
	})
	close(stop)
	withDeadline(t, 2*time.Second, "readers", func(ctx context.Context) {
		for range 4 {
			if err := <-errs; err != nil {
				t.Errorf("reader: %v", err)
			}
		}
	})
	logged := d.Logs.FilterMessage("tree build panicked").All()
	if len(logged) != 1 || !strings.Contains(logged[0].ContextMap()["stack"].(string), "faults.(*PanicSource).Tracks") {
		t.Fatalf("want one rebuild panic logged with its stack, got %v", logged)
	}
}

// (h) A library of malformed files: all listed, the daemon stays up, the
// scan completes.
func TestMalformedLibrary(t *testing.T) {
	lib := audiogen.MalformedLibrary()
	d := startDaemon(t, writeLib(t, lib))
	for _, f := range lib {
		if _, err := os.Stat(d.Path("Origins/lib/" + f.RelPath)); err != nil {
			t.Errorf("%s not listed: %v", f.RelPath, err)
		}
	}
	unknown, err := os.ReadDir(d.Path("Artists/Unknown Artist/Unknown Album"))
	if err != nil || len(unknown) == 0 {
		t.Fatalf("malformed audio not under Unknown Artist: %v %v", unknown, err)
	}
	if st := d.Index.Stats(); st.Scanning || st.ScanDone < 1 {
		t.Fatalf("scan not complete: %+v", st)
	}
	if _, err := os.ReadFile(d.Path("Origins/lib/" + lib[0].RelPath)); err != nil {
		t.Fatalf("read after the scan: %v", err)
	}
}

func writeOriginFile(t *testing.T, lib, name string) {
	t.Helper()
	if err := os.WriteFile(lib+"/"+name, []byte(name), 0o644); err != nil {
		t.Fatal(err)
	}
}
