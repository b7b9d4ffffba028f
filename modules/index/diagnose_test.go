package index_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/promtest"
)

// Every untagged file says why: one rate-limited line each, one summary
// line by reason and format after the scan, and a gauge per reason.
func TestUntaggedReasons(t *testing.T) {
	files := map[string][]byte{
		"ok.mp3":           mp3(3, testTags{Title: "Fine", Artist: "A"}),
		"plain.mp3":        mpegFrames(4),
		"song.mid":         []byte("MThd\x00\x00\x00\x06\x00\x00\x00\x01\x00\x60MTrk\x00\x00\x00\x04\x00\xff\x2f\x00"),
		"text as audio.wv": []byte("this is not audio\n"),
		"broken.mp3": append(append([]byte{'I', 'D', '3', 4, 0, 0}, syncsafe(16)...),
			[]byte("TIT2\x00\x00\x00\x02\x00\x00\x09x\x00\x00\x00\x00")...),
	}
	for i := range 40 { // more than the per-second line limit
		files[fmt.Sprintf("many/%02d.mp3", i)] = mpegFrames(2)
	}
	root := t.TempDir()
	writeLibrary(t, root, files)
	e := start(t, map[string]string{"lib": root}, envOpt{})
	e.waitScanned(t, 10*time.Second)

	want := map[string]string{"ok.mp3": "", "plain.mp3": "no_tags", "song.mid": "no_reader",
		"text as audio.wv": "unknown_format", "broken.mp3": "malformed"}
	got := e.byPath()
	for rel, reason := range want {
		tr := got["lib/"+rel]
		if tr == nil {
			t.Fatalf("%s not indexed", rel)
		}
		if tr.Tagged != (reason == "") || (reason != "" && tr.Untagged.String() != reason) {
			t.Errorf("%s: tagged %v, reason %v; want reason %q", rel, tr.Tagged, tr.Untagged, reason)
		}
	}

	lines := e.logs.FilterMessage("tags not read; file listed under Unknown")
	if n := lines.Len(); n < 4 || n > 20 {
		t.Errorf("%d per-file lines for 44 untagged files, want the first few only (rate-limited)", n)
	}
	sums := e.logs.FilterMessage("untagged files by reason").All()
	if len(sums) != 1 {
		t.Fatalf("%d summary lines, want 1", len(sums))
	}
	fields := sums[0].ContextMap()
	for k, v := range map[string]string{"no_tags": "41 mp3", "no_reader": "1 mid", "unknown_format": "1 wv", "malformed": "1 mp3"} {
		if fields[k] != v {
			t.Errorf("summary %s = %v, want %q (all fields: %v)", k, fields[k], v, fields)
		}
	}
	if n, _ := fields["lines_not_logged"].(int64); n == 0 {
		t.Errorf("summary does not count the lines the rate limit dropped: %v", fields)
	}
	if !strings.Contains(fmt.Sprint(fields["untagged"]), "44") {
		t.Errorf("summary untagged = %v, want 44", fields["untagged"])
	}
	for reason, n := range map[string]float64{"no_tags": 41, "no_reader": 1, "unknown_format": 1, "malformed": 1, "timeout": 0} {
		if v := promtest.Value(t, e.reg, "musicfs_index_untagged", "reason", reason); v != n {
			t.Errorf("musicfs_index_untagged{reason=%q} = %v, want %v", reason, v, n)
		}
	}
	// A file without tags, or of a format without them, is not an error:
	// only the malformed tag is.
	if v := promtest.Value(t, e.reg, "musicfs_scan_errors_total"); v != 1 {
		t.Errorf("musicfs_scan_errors_total = %v, want 1 (the malformed tag)", v)
	}
}
