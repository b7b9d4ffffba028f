package bench

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/audiogen"
)

// TestBenchHarness runs the benchmarks' machinery once on a small library,
// so that CI, which runs no benchmarks, still exercises it: the daemon
// starts, serves the whole tree, is measured, and stops cleanly.
func TestBenchHarness(t *testing.T) {
	const tracks = 50
	lib := filepath.Join(t.TempDir(), "lib")
	if err := audiogen.WriteLarge(lib, tracks, 4<<10); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, lib)
	last, _ := audiogen.LargeTrack(tracks - 1)
	d.waitFiles(t, []string{last}, 10*time.Second)
	d.waitTree(t, "Artists", tracks, 10*time.Second)

	res, err := measureWalks(lib, d.path("Artists"), 1, d.pid())
	if err != nil {
		t.Fatal(err)
	}
	cs := res.comparisons()
	if len(cs) != len(walkers)+2 {
		t.Fatalf("got %d comparisons, want %d", len(cs), len(walkers)+2)
	}
	for i, w := range walkers {
		c := cs[i]
		if c.origin <= 0 || c.mount <= 0 {
			t.Errorf("%s: origin %v s, mount %v s: want both > 0", w.name, c.origin, c.mount)
		}
		if got, want := c.ratio(), res.mount[i].Seconds()/res.origin[i].Seconds(); got != want {
			t.Errorf("%s: ratio %v, want mount/origin = %v", w.name, got, want)
		}
	}
	if res.rss <= 1 || res.rss > res.peak || res.peak > 4096 {
		t.Errorf("daemon memory: VmRSS %.1f MiB, VmHWM %.1f MiB: implausible", res.rss, res.peak)
	}

	// One read each way of one track returns the same number of bytes.
	var origin, mount []string
	for i := range 3 {
		rel, _ := audiogen.LargeTrack(i)
		origin = append(origin, filepath.Join(lib, filepath.FromSlash(rel)))
		mount = append(mount, d.path("Origins/lib/"+rel))
	}
	want := int64(3 * (4 << 10))
	r, err := measureReads(origin, mount, 1, want)
	if err != nil {
		t.Fatal(err)
	}
	if r.origin <= 0 || r.mount <= 0 || r.cold <= 0 || r.direct <= 0 {
		t.Errorf("read throughputs %+v: want all > 0", r)
	}

	// A restart over the same state, then changes on the origin seen live.
	d.stop(t)
	d.start(t)
	d.waitTree(t, "Artists", tracks, 10*time.Second)
	lat, err := changeLatencies(d, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != 3 {
		t.Fatalf("%d change latencies, want 3", len(lat))
	}
}

func TestComparison(t *testing.T) {
	tests := []struct {
		name   string
		c      comparison
		ratio  float64 // NaN: none
		met    bool
		target string
	}{
		{"time under limit", comparison{unit: "s", origin: 0.2, mount: 0.3, limit: 2}, 1.5, true, "≤ 2x"},
		{"time at limit", comparison{unit: "s", origin: 0.2, mount: 0.4, limit: 2}, 2, true, "≤ 2x"},
		{"time over limit", comparison{unit: "s", origin: 0.2, mount: 0.7, limit: 3}, 3.5, false, "≤ 3x"},
		{"throughput over limit", comparison{unit: "MB/s", origin: 10000, mount: 1700, higher: true, limit: 0.1}, 0.17, true, "≥ 0.1x"},
		{"throughput under limit", comparison{unit: "MB/s", origin: 10000, mount: 500, higher: true, limit: 0.1}, 0.05, false, "≥ 0.1x"},
		{"absolute under limit", comparison{unit: "MiB", mount: 45, limit: 60}, math.NaN(), true, "≤ 60 MiB"},
		{"absolute over limit", comparison{unit: "MiB", mount: 61, limit: 60}, math.NaN(), false, "≤ 60 MiB"},
		{"no target", comparison{unit: "MiB", mount: 600}, math.NaN(), true, "-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.c.ratio()
			if math.IsNaN(tt.ratio) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tt.ratio) > 1e-9) {
				t.Errorf("ratio() = %v, want %v", got, tt.ratio)
			}
			if got := tt.c.met(); got != tt.met {
				t.Errorf("met() = %v, want %v", got, tt.met)
			}
			if got := tt.c.target(); got != tt.target {
				t.Errorf("target() = %q, want %q", got, tt.target)
			}
		})
	}
}

func TestWriteTable(t *testing.T) {
	var b strings.Builder
	err := writeTable(&b, "title", []comparison{
		{name: "find, warm", unit: "s", origin: 0.1, mount: 0.25, limit: 3},
		{name: "ls -lR, warm", unit: "s", origin: 0.1, mount: 0.25, limit: 2},
		{name: "RSS", unit: "MiB", mount: 42, limit: 60},
	})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	want := [][]string{
		{"title"},
		{"origin", "mount", "ratio", "target"},
		{"find, warm", "0.100 s", "0.250 s", "2.50x", "≤ 3x", "ok"},
		{"ls -lR, warm", "0.100 s", "0.250 s", "2.50x", "≤ 2x", "MISSED"},
		{"RSS", "-", "42.000 MiB", "-", "≤ 60 MiB", "ok"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i, cells := range want {
		for _, c := range cells {
			if !strings.Contains(lines[i], c) {
				t.Errorf("line %d %q lacks %q", i, lines[i], c)
			}
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{5}, 5},
		{[]time.Duration{9, 1, 5}, 5},
		{[]time.Duration{4, 1, 3, 2}, 2}, // (2+3)/2 in integer nanoseconds
		{[]time.Duration{10, 30, 20, 40}, 25},
	}
	for _, tt := range tests {
		in := append([]time.Duration(nil), tt.in...)
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.in[i] {
				t.Fatalf("median reordered its input: %v", tt.in)
			}
		}
	}
}

func TestProcStatusKB(t *testing.T) {
	const status = "Name:\tmusicfs\nVmHWM:\t   61440 kB\nVmRSS:\t   40960 kB\nThreads:\t9\n"
	tests := []struct {
		key     string
		want    int64
		wantErr bool
	}{
		{"VmRSS", 40960, false},
		{"VmHWM", 61440, false},
		{"VmSwap", 0, true},
		{"Threads", 0, true}, // not in kB
	}
	for _, tt := range tests {
		got, err := procStatusKB(strings.NewReader(status), tt.key)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("procStatusKB(%s) = %d, %v; want %d, error %v", tt.key, got, err, tt.want, tt.wantErr)
		}
	}
	// And this very process, as memMiB reads the daemon's.
	rss, peak, err := memMiB(os.Getpid())
	if err != nil || rss <= 0 || peak < rss {
		t.Errorf("memMiB(self) = %v, %v, %v", rss, peak, err)
	}
}

func TestMbPerSec(t *testing.T) {
	if got := mbPerSec(1e9, 2*time.Second); got != 500 {
		t.Errorf("mbPerSec(1e9, 2s) = %v, want 500", got)
	}
	if got := mbPerSec(1e9, 0); got != 0 {
		t.Errorf("mbPerSec(1e9, 0) = %v, want 0", got)
	}
}

func TestPercentile(t *testing.T) {
	ds := make([]time.Duration, 100)
	for i := range ds {
		ds[i] = time.Duration(100 - i) // reversed: percentile must sort a copy
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50}, {0.99, 99}, {1, 100}, {0.001, 1}} {
		if got := percentile(ds, tt.p); got != tt.want {
			t.Errorf("percentile(1..100, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if ds[0] != 100 {
		t.Fatal("percentile reordered its input")
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("percentile(nil) = %v", got)
	}
}
