package tagcorpus

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"

	_ "embed"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// The oracle's fields. Each holds the values of one tag key as the file
// has them: several values are a list, numbers are the raw text ("3",
// "03", "3/12"), dates too.
const (
	FieldTitle        = "title"
	FieldArtist       = "artist"
	FieldArtists      = "artists" // Picard's ARTISTS, beside a display ARTIST
	FieldAlbumArtist  = "albumartist"
	FieldAlbumArtists = "albumartists"
	FieldAlbum        = "album"
	FieldGenre        = "genre"
	FieldDate         = "date"
	FieldOriginalDate = "originaldate"
	FieldTrack        = "track"
	FieldTrackTotal   = "tracktotal"
	FieldDisc         = "disc"
	FieldDiscTotal    = "disctotal"
	FieldCompilation  = "compilation"
)

// Fields lists the oracle's fields.
var Fields = []string{FieldTitle, FieldArtist, FieldArtists, FieldAlbumArtist, FieldAlbumArtists, FieldAlbum,
	FieldGenre, FieldDate, FieldOriginalDate, FieldTrack, FieldTrackTotal, FieldDisc, FieldDiscTotal, FieldCompilation}

// ffprobeKeys maps ffprobe's tag keys, lower-cased, to fields, best first.
// They differ per format: ffmpeg maps most formats' keys to its generic
// names (album_artist, track, disc) but leaves others as the file has
// them (APEv2's "Year", ASF's "WM/…", Vorbis' TRACKTOTAL, TXXX
// descriptions).
var ffprobeKeys = map[string][]string{
	FieldTitle:        {"title"},
	FieldArtist:       {"artist", "author"},
	FieldArtists:      {"artists", "wm/artists"},
	FieldAlbumArtist:  {"album_artist", "albumartist", "album artist", "wm/albumartist"},
	FieldAlbumArtists: {"albumartists", "wm/albumartists"},
	FieldAlbum:        {"album", "wm/albumtitle"},
	FieldGenre:        {"genre", "wm/genre"},
	FieldDate:         {"date", "year", "wm/year"},
	FieldOriginalDate: {"originaldate", "tdor", "originalyear", "wm/originalreleaseyear"},
	FieldTrack:        {"track", "tracknumber", "wm/tracknumber"},
	FieldTrackTotal:   {"tracktotal", "totaltracks"},
	FieldDisc:         {"disc", "discnumber", "wm/partofset"},
	FieldDiscTotal:    {"disctotal", "totaldiscs"},
	FieldCompilation:  {"compilation", "wm/iscompilation"},
}

//go:embed oracle.py
var oracleScript string

// Oracle reads one file with ffprobe and mutagen; see OracleAll.
func Oracle(t testing.TB, path string) map[string][]string {
	t.Helper()
	return OracleAll(t, []string{path})[path]
}

// OracleAll reads each file with ffprobe and with mutagen (one Python run
// for all files) and returns, per path and field, the values on which
// both agree: mutagen's list, when it joined by ";" is the string ffprobe
// gives (ffmpeg joins several values of one key with ";"). A field that
// only one tool reads, or that they read differently, is left out. It
// needs ffprobe and mutagen, skipping the test (failing it with CI=true)
// without them.
func OracleAll(t testing.TB, paths []string) map[string]map[string][]string {
	t.Helper()
	mounttest.RequireTool(t, "ffprobe")
	RequireMutagen(t)
	muts, err := mutagenDump(paths)
	if err != nil {
		t.Fatal(err)
	}
	// ffprobe costs ~0.1 s of CPU a file, all of it start-up: it is run
	// only where mutagen found something to agree with.
	probes := make([]map[string]string, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	sem := make(chan struct{}, workers())
	for i, p := range paths {
		if len(muts[p]) == 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			probes[i], errs[i] = ffprobe(p)
		}()
	}
	wg.Wait()
	out := make(map[string]map[string][]string, len(paths))
	for i, p := range paths {
		if errs[i] != nil {
			// A file ffprobe rejects has no agreed field; that is for the
			// caller to judge, not a failure of the oracle.
			t.Logf("oracle: %s: %v", p, errs[i])
		}
		if e, ok := muts[p]["error"]; ok {
			t.Logf("oracle: mutagen %s: %s", p, strings.Join(e, " "))
		}
		out[p] = agree(probes[i], muts[p])
	}
	return out
}

// agree keeps the fields on which ffprobe's tags and mutagen's fields
// agree.
func agree(probe map[string]string, mut map[string][]string) map[string][]string {
	got := map[string][]string{}
	for _, f := range Fields {
		vs, ok := mut[f]
		if !ok {
			continue
		}
		for _, k := range ffprobeKeys[f] {
			if pv, ok := probe[k]; ok {
				if strings.TrimSpace(pv) == strings.TrimSpace(strings.Join(vs, ";")) {
					got[f] = vs
				}
				break
			}
		}
	}
	// Where a file has Picard's list beside the display artist, the list
	// is what a reader gives: if the tools do not agree on the list, the
	// display artist alone says nothing about it.
	for list, display := range map[string]string{FieldArtists: FieldArtist, FieldAlbumArtists: FieldAlbumArtist} {
		if _, ok := mut[list]; ok && got[list] == nil {
			delete(got, display)
		}
	}
	return got
}

// ffprobe returns the format's and streams' tags of a file, keys
// lower-cased; the format's win over a stream's.
func ffprobe(path string) (map[string]string, error) {
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format_tags:stream_tags", "-of", "json", path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("ffprobe: %v: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return nil, fmt.Errorf("ffprobe: %v", err)
	}
	var doc struct {
		Format struct {
			Tags map[string]string `json:"tags"`
		} `json:"format"`
		Streams []struct {
			Tags map[string]string `json:"tags"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		return nil, fmt.Errorf("ffprobe output: %v", err)
	}
	tags := map[string]string{}
	for _, m := range append([]map[string]string{doc.Format.Tags}, streamTags(doc.Streams)...) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			lk := strings.ToLower(k)
			if _, ok := tags[lk]; !ok {
				tags[lk] = m[k]
			}
		}
	}
	return tags, nil
}

func streamTags(ss []struct {
	Tags map[string]string `json:"tags"`
}) []map[string]string {
	var out []map[string]string
	for _, s := range ss {
		out = append(out, s.Tags)
	}
	return out
}

// mutagenDump runs oracle.py over all paths.
func mutagenDump(paths []string) (map[string]map[string][]string, error) {
	cmd := exec.Command(Python, "-c", oracleScript)
	cmd.Stdin = strings.NewReader(strings.Join(paths, "\n") + "\n")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		return nil, fmt.Errorf("mutagen dump: %v\n%s", err, stderr)
	}
	var m map[string]map[string][]string
	if err := json.Unmarshal(out, &m); err != nil {
		return nil, fmt.Errorf("mutagen dump output: %v", err)
	}
	for _, p := range paths {
		if _, ok := m[p]; !ok {
			return nil, fmt.Errorf("mutagen dump: no result for %s", p)
		}
	}
	return m, nil
}
