// Package tagcorpus builds a corpus of tagged audio files, one per format
// and tag-block edge case, and reads them back with two independent tools
// (ffprobe and mutagen) as an oracle. Audio is real (ffmpeg encodes a short
// tone) and tags are written by mutagen, except for what those tools cannot
// make (broken ID3v2 tags, DSD and Monkey's Audio headers, tracker modules,
// MIDI), which Go code builds byte by byte.
//
// Build needs ffmpeg and Debian's /usr/bin/python3 with python3-mutagen
// (and mpcenc from musepack-tools for the Musepack case); the oracle needs
// ffprobe. A missing tool skips the test, or fails it with CI=true.
package tagcorpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	_ "embed"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// Expect is what a correct tag reader finds in a file: what mpd, beets and
// mutagen show for it. Several values of a field are a list, in tag order,
// each once. A missing value is empty or zero.
type Expect struct {
	Title        string
	Artists      []string
	AlbumArtists []string
	Album        string
	Genres       []string
	Year         int
	Track        int
	TrackTotal   int
	Disc         int
	DiscTotal    int
	Compilation  bool
}

// Case is one file of the corpus.
type Case struct {
	Name    string // unique, e.g. "formats/mp3-id3v23"; RelPath without its extension
	RelPath string // slash-separated, relative to Build's dir
	Format  string // the file format as a person names it: "mp3", "ogg-opus", "m4a-alac", "wma", ...
	Want    Expect
}

// Python is the interpreter that has mutagen: Debian's, not whatever
// python3 comes first on PATH.
const Python = "/usr/bin/python3"

//go:embed tag.py
var tagScript string

// RequireMutagen skips the test when Python's mutagen is missing, except
// in CI, where that is a failure.
func RequireMutagen(t testing.TB) {
	t.Helper()
	out, err := exec.Command(Python, "-c", "import mutagen").CombinedOutput()
	if err == nil {
		return
	}
	why := fmt.Sprintf("%s with mutagen is needed (apt-get install python3-mutagen): %v %s", Python, err, bytes.TrimSpace(out))
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// Build writes every case's file under dir and returns the cases, in a
// fixed order. It skips (or, with CI=true, fails) the test when ffmpeg or
// mutagen is missing; the Musepack case is left out locally when mpcenc is.
func Build(t testing.TB, dir string) []Case {
	t.Helper()
	mounttest.RequireTool(t, "ffmpeg")
	RequireMutagen(t)
	rs := recipes()
	if _, err := exec.LookPath("mpcenc"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mpcenc is not installed (apt-get install musepack-tools): %v", err)
		}
		t.Logf("mpcenc is not installed: the Musepack case is left out")
		kept := rs[:0]
		for _, r := range rs {
			if r.pipe == nil {
				kept = append(kept, r)
			}
		}
		rs = kept
	}
	checkUnique(t, rs)
	for _, r := range rs {
		if err := os.MkdirAll(filepath.Dir(r.path(dir)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	encode(t, dir, rs)
	tag(t, dir, rs)
	for _, r := range rs {
		if r.post == nil {
			continue
		}
		p := r.path(dir)
		b, err := os.ReadFile(p)
		if err == nil {
			b, err = r.post(b)
		}
		if err == nil {
			err = os.WriteFile(p, b, 0o644)
		}
		if err != nil {
			t.Fatalf("%s: %v", r.RelPath, err)
		}
	}
	cases := make([]Case, len(rs))
	for i, r := range rs {
		cases[i] = r.Case
	}
	return cases
}

func checkUnique(t testing.TB, rs []recipe) {
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Name] || seen[r.RelPath] {
			t.Fatalf("tagcorpus: %s is not unique", r.RelPath)
		}
		seen[r.Name], seen[r.RelPath] = true, true
	}
}

// workers bounds the tools run at once: each is short and single-threaded.
func workers() int { return max(2, min(4, runtime.NumCPU())) }

// encode makes each case's untagged file: Go-built bytes, or the output of
// ffmpeg (and mpcenc). Cases whose encoding is the same share one run,
// whose output is copied.
func encode(t testing.TB, dir string, rs []recipe) {
	t.Helper()
	first := map[string]int{} // encoding key → index of the recipe that runs it
	var errs []string
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers())
	for i := range rs {
		r := &rs[i]
		k := r.key()
		if _, dup := first[k]; dup {
			continue
		}
		first[k] = i
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := r.encode(r.path(dir)); err != nil {
				mu.Lock()
				errs = append(errs, fmt.Sprintf("%s: %v", r.RelPath, err))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("encode:\n%s", strings.Join(errs, "\n"))
	}
	for i := range rs {
		r := &rs[i]
		if j := first[r.key()]; j != i {
			b, err := os.ReadFile(rs[j].path(dir))
			if err == nil {
				err = os.WriteFile(r.path(dir), b, 0o644)
			}
			if err != nil {
				t.Fatalf("%s: %v", r.RelPath, err)
			}
		}
	}
}

// tag runs every mutagen op of every case in one Python process.
func tag(t testing.TB, dir string, rs []recipe) {
	t.Helper()
	type spec struct {
		Path string `json:"path"`
		Ops  []op   `json:"ops"`
	}
	var specs []spec
	for _, r := range rs {
		if len(r.ops) > 0 {
			specs = append(specs, spec{r.path(dir), r.ops})
		}
	}
	in, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Python, "-c", tagScript)
	cmd.Stdin = bytes.NewReader(in)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tag with mutagen: %v\n%s", err, out)
	}
}
