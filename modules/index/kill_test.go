package index_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
)

const (
	killFiles = 300
	killHang  = "d07/007.flac" // never finishes reading in the helper
)

func killLibrary() map[string][]byte {
	files := map[string][]byte{}
	for i := range killFiles {
		files[fmt.Sprintf("d%02d/%03d.flac", i%30, i)] = flac(testTags{Title: fmt.Sprint(i), Artist: "A"})
	}
	return files
}

// TestKillDuringFirstScan kills (SIGKILL) a process in the middle of its
// first scan: the next start has every record that process had published,
// once, and its scan completes without reading those files again.
func TestKillDuringFirstScan(t *testing.T) {
	root, state := t.TempDir(), t.TempDir()
	writeLibrary(t, root, killLibrary())

	cmd := exec.Command(os.Args[0], "-test.run=^TestKillHelper$")
	cmd.Env = append(os.Environ(), "KILL_HELPER_ROOT="+root, "KILL_HELPER_STATE="+state)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	published := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "published "); ok {
				v, _ := strconv.Atoi(n)
				published <- v
				return
			}
		}
		close(published)
	}()
	var n int
	select {
	case n = <-published:
	case <-time.After(20 * time.Second):
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if n != killFiles-1 {
		t.Fatalf("helper published %d records, want %d", n, killFiles-1)
	}

	f := &faults{}
	e := start(t, map[string]string{"lib": root}, envOpt{cfg: stateCfg(state),
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} }})
	got := e.ix.Tracks()
	if len(got) != n || len(e.byPath()) != n {
		t.Fatalf("after kill -9: %d records (%d distinct), want the %d published", len(got), len(e.byPath()), n)
	}
	e.ix.StartScanning()
	e.waitScanned(t, 10*time.Second)
	if got := e.byPath(); len(got) != killFiles || len(e.ix.Tracks()) != killFiles || got["lib/"+killHang] == nil {
		t.Fatalf("after the scan: %d records (%d distinct), want %d", len(e.ix.Tracks()), len(got), killFiles)
	}
	if o := f.openedAny(); o != 1 || f.opened(killHang) != 1 {
		t.Fatalf("%d files read again, want only %s", o, killHang)
	}
}

// TestKillHelper is the process TestKillDuringFirstScan kills: it scans a
// library in which one file never finishes reading, prints how many records
// were published once all the others are, and waits.
func TestKillHelper(t *testing.T) {
	root, state := os.Getenv("KILL_HELPER_ROOT"), os.Getenv("KILL_HELPER_STATE")
	if root == "" {
		t.Skip("the process killed by TestKillDuringFirstScan")
	}
	f := &faults{hang: map[string]bool{killHang: true}, release: make(chan struct{})}
	e := start(t, map[string]string{"lib": root}, envOpt{
		cfg:      &index.Config{StateDir: state, Workers: 4, FileTimeout: time.Hour},
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	waitFor(t, 15*time.Second, "all but the hanging file published", func() bool { return len(e.ix.Tracks()) == killFiles-1 })
	fmt.Printf("published %d\n", len(e.ix.Tracks()))
	time.Sleep(time.Minute) // killed long before
}
