package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// comparison is one operation measured on the mount and, in the same run, on
// the origin directory.
type comparison struct {
	name   string
	unit   string  // of origin and mount: "s", "MB/s" or "MiB"
	origin float64 // 0: nothing to compare with, the target is on mount itself
	mount  float64
	higher bool    // higher is better (throughput), else lower (time, memory)
	limit  float64 // the target for the ratio (or for mount if origin is 0); 0 for none
}

// ratio is mount/origin, NaN without an origin value.
func (c comparison) ratio() float64 {
	if c.origin == 0 {
		return math.NaN()
	}
	return c.mount / c.origin
}

// met reports whether the target is reached.
func (c comparison) met() bool {
	if c.limit == 0 {
		return true
	}
	v := c.ratio()
	if c.origin == 0 {
		v = c.mount
	}
	if c.higher {
		return v >= c.limit
	}
	return v <= c.limit
}

func (c comparison) target() string {
	if c.limit == 0 {
		return "-"
	}
	op := "≤"
	if c.higher {
		op = "≥"
	}
	if c.origin == 0 {
		return fmt.Sprintf("%s %g %s", op, c.limit, c.unit)
	}
	return fmt.Sprintf("%s %gx", op, c.limit)
}

// writeTable prints comparisons as an aligned table under a title.
func writeTable(w io.Writer, title string, cs []comparison) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\n", title)
	fmt.Fprintf(tw, "  \torigin\tmount\tratio\ttarget\t\n")
	for _, c := range cs {
		origin, ratio := "-", "-"
		if c.origin != 0 {
			origin = fmt.Sprintf("%.3f %s", c.origin, c.unit)
			ratio = fmt.Sprintf("%.2fx", c.ratio())
		}
		verdict := ""
		if c.limit != 0 {
			verdict = "ok"
			if !c.met() {
				verdict = "MISSED"
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%.3f %s\t%s\t%s\t%s\n", c.name, origin, c.mount, c.unit, ratio, c.target(), verdict)
	}
	return tw.Flush()
}

// median of ds; the mean of the middle two for an even count.
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// mbPerSec is n bytes in d as decimal MB/s.
func mbPerSec(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / 1e6 / d.Seconds()
}

// procStatusKB returns a "Key:  123 kB" field of a /proc/<pid>/status file.
func procStatusKB(r io.Reader, key string) (int64, error) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != key {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("%s: unexpected value %q", key, rest)
		}
		return strconv.ParseInt(f[0], 10, 64)
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("%s: not in status", key)
}

// memMiB returns the VmRSS and VmHWM (peak RSS) of pid in MiB.
func memMiB(pid int) (rss, peak float64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	kb := make([]int64, 2)
	for i, key := range []string{"VmRSS", "VmHWM"} {
		if kb[i], err = procStatusKB(bytes.NewReader(b), key); err != nil {
			return 0, 0, fmt.Errorf("pid %d: %w", pid, err)
		}
	}
	return float64(kb[0]) / 1024, float64(kb[1]) / 1024, nil
}

// walker is a command that walks a directory tree.
type walker struct {
	name   string
	metric string   // its benchmark metric is <metric>_x_origin
	args   []string // the directory is appended
	limit  float64  // target for mount/origin
}

// walkers are the two walks issue 4 sets targets for at 100k tracks, as
// ratios to the same walk of the origin.
var walkers = []walker{
	{name: "ls -lR", metric: "ls", args: []string{"ls", "-lR"}, limit: 1.5},
	{name: "find", metric: "find", args: []string{"find"}, limit: 2},
}

// run times one walk of dir, its output discarded.
func (w walker) run(dir string) (time.Duration, error) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer devnull.Close()
	var stderr bytes.Buffer
	cmd := exec.Command(w.args[0], append(w.args[1:], dir)...)
	// The same byte-order sort for both sides, whatever the locale.
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	// An *os.File is handed to the child as is: no copying goroutine.
	cmd.Stdout, cmd.Stderr = devnull, &stderr
	start := time.Now()
	err = cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w: %s", w.name, dir, err, stderr.Bytes())
	}
	return d, nil
}

// walkTimes warms origin and mount with one walk each, then times runs walks
// of each, alternating so that load from elsewhere hits both alike, and
// returns the medians.
func (w walker) walkTimes(origin, mount string, runs int) (o, m time.Duration, err error) {
	for _, dir := range []string{origin, mount} {
		if _, err := w.run(dir); err != nil {
			return 0, 0, err
		}
	}
	var ods, mds []time.Duration
	for range runs {
		d, err := w.run(origin)
		if err != nil {
			return 0, 0, err
		}
		ods = append(ods, d)
		if d, err = w.run(mount); err != nil {
			return 0, 0, err
		}
		mds = append(mds, d)
	}
	return median(ods), median(mds), nil
}

// medianReads reads all of origin, then all of mount, reps times in turn, so
// that load from elsewhere hits both sides alike, checks each pass read
// want bytes, and returns each side's median time.
func medianReads(origin, mount []string, reps int, want int64, buf []byte) (o, m time.Duration, err error) {
	var ot, mt []time.Duration
	for range reps {
		for _, side := range []struct {
			paths []string
			times *[]time.Duration
		}{{origin, &ot}, {mount, &mt}} {
			n, took, err := readFiles(side.paths, 0, buf)
			if err != nil {
				return 0, 0, err
			}
			if n != want {
				return 0, 0, fmt.Errorf("read %d bytes, want %d", n, want)
			}
			*side.times = append(*side.times, took)
		}
	}
	return median(ot), median(mt), nil
}

// readBufSize is the size of each read(2), as cat and players use.
const readBufSize = 1 << 20

// readFiles reads every file from start to end with read(2) into one buffer,
// opening them with the extra flags (O_DIRECT), and returns the bytes read and
// the time taken.
func readFiles(paths []string, flags int, buf []byte) (int64, time.Duration, error) {
	var total int64
	start := time.Now()
	for _, p := range paths {
		n, err := readFile(p, flags, buf)
		total += n
		if err != nil {
			return total, 0, err
		}
	}
	return total, time.Since(start), nil
}

func readFile(p string, flags int, buf []byte) (int64, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|flags, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var total int64
	for {
		n, err := f.Read(buf)
		total += int64(n)
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, fmt.Errorf("read %s at %d: %w", p, total, err)
		}
	}
}
