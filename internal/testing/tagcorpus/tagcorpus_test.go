package tagcorpus

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// oracleGaps are the cases where ffprobe and mutagen do not both read the
// title, and why. Everywhere else the oracle must have one: that shows
// both tools read the fixture.
var oracleGaps = map[string]string{
	"formats/mp3-apev2":         "ffmpeg reads no APEv2 tag in MP3",
	"formats/wav-info":          "mutagen reads no RIFF INFO",
	"formats/wav-info-itrk":     "mutagen reads no RIFF INFO",
	"formats/dff":               "ffmpeg reads no ID3 chunk in DSDIFF",
	"formats/matroska":          "mutagen reads no Matroska",
	"formats/protracker":        "mutagen reads no tracker module",
	"formats/fasttracker":       "mutagen reads no tracker module",
	"formats/screamtracker":     "mutagen reads no tracker module",
	"formats/impulsetracker":    "mutagen reads no tracker module",
	"formats/midi":              "no tags, and ffmpeg does not open MIDI",
	"id3-broken/zlib-v23":       "ffmpeg 5.1 drops compressed ID3v2.3 frames",
	"id3-broken/unsync-v23-tag": "ffmpeg takes ID3v2.3 frame sizes as after unsynchronisation; the spec (and mutagen, TagLib) as before",
	"id3-broken/utf16-no-bom":   "ffmpeg drops a UTF-16 frame without BOM; mutagen reads it little endian",
	"id3-broken/id3v1-latin1":   "ffmpeg 5.1 passes ID3v1 bytes through undecoded (invalid UTF-8)",
	"merge/wav-info-vs-id3":     "ffmpeg gives the RIFF INFO values, mutagen the ID3 ones: they disagree by design",
}

// TestOracleAgreesWithWant checks the fixtures: wherever ffprobe and
// mutagen agree on a value, it is the case's Want. A fixture that fails
// here is not what its case says it is.
func TestOracleAgreesWithWant(t *testing.T) {
	dir := t.TempDir()
	start := time.Now()
	cases := Build(t, dir)
	built := time.Since(start)
	paths := make([]string, len(cases))
	for i, c := range cases {
		paths[i] = filepath.Join(dir, filepath.FromSlash(c.RelPath))
		if fi, err := os.Stat(paths[i]); err != nil || fi.Size() == 0 || c.Format == "" {
			t.Errorf("%s: no file, an empty one, or no format (%v)", c.RelPath, err)
		}
	}
	// One file per case, nothing else: Build leaves no scratch files.
	if n, err := mounttest.CountFiles(dir); err != nil || n != len(cases) {
		t.Errorf("%d files under dir for %d cases (%v)", n, len(cases), err)
	}
	start = time.Now()
	oracle := OracleAll(t, paths)
	t.Logf("%d cases: Build %v, oracle %v", len(cases), built.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	covered := 0
	for i, c := range cases {
		o := oracle[paths[i]]
		if len(o) > 0 {
			covered++
		}
		for _, d := range Compare(o, c.Want) {
			t.Errorf("%s: %s", c.Name, d)
		}
		if _, gap := oracleGaps[c.Name]; !gap && c.Want.Title != "" && o[FieldTitle] == nil {
			t.Errorf("%s: ffprobe and mutagen do not agree on a title (oracle %v)", c.Name, o)
		}
	}
	t.Logf("the oracle has values for %d of %d cases", covered, len(cases))
}
