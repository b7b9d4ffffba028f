package index_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
)

var (
	wallTags = testTags{
		Title: "In the Flesh?", Artist: "Pink Floyd", AlbumArtist: "Pink Floyd", Album: "The Wall",
		Genre: "Rock", Year: 1979, Track: 1, TrackTotal: 13, Disc: 1, DiscTotal: 2,
	}
	unicodeTags = testTags{
		Title: "  Jóga  ", Artist: "Björk", AlbumArtist: "Björk", Album: "Homogenic / 坂本",
		Genre: "Electronic", Year: 1997, Track: 3, Disc: 2, DiscTotal: 2,
	}
)

func TestScanReadsTags(t *testing.T) {
	root := t.TempDir()
	files := map[string][]byte{
		"pf/wall/01.flac":    flac(wallTags),
		"pf/wall/02.MP3":     mp3(3, wallTags),
		"v22.mp3":            mp3(2, wallTags),
		"v24.mp3":            mp3(4, unicodeTags),
		"v1.mp3":             mp3(1, testTags{Title: "Old", Artist: "Timer", Album: "Vintage", Year: 1988, Track: 4}),
		"bjork.flac":         flac(unicodeTags),
		"vorbis.ogg":         ogg(false, wallTags),
		"opus.opus":          ogg(true, unicodeTags),
		"apple.m4a":          m4a(wallTags),
		"blank.flac":         flac(testTags{Title: "   ", Artist: "\t", Track: 2}),
		"pf/wall/cover.jpg":  []byte("\xff\xd8\xff not really a jpeg"),
		"notes.txt":          []byte("liner notes"),
		".hidden/track.flac": flac(testTags{Title: "Hidden"}),
		"untagged.wav":       append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 64)...),
	}
	writeLibrary(t, root, files)
	e := start(t, map[string]string{"lib": root}, envOpt{})
	e.waitScanned(t, 10*time.Second)

	got := e.byPath()
	if len(got) != len(files) {
		t.Fatalf("indexed %d files, want %d: %v", len(got), len(files), got)
	}
	wall := index.Track{Title: "In the Flesh?", Artists: []string{"Pink Floyd"}, AlbumArtists: []string{"Pink Floyd"},
		Album: "The Wall", Genres: []string{"Rock"}, Year: 1979, Track: 1, Disc: 1, DiscTotal: 2}
	bjork := index.Track{Title: "Jóga", Artists: []string{"Björk"}, AlbumArtists: []string{"Björk"},
		Album: "Homogenic / 坂本", Genres: []string{"Electronic"}, Year: 1997, Track: 3, Disc: 2, DiscTotal: 2}
	tests := []struct {
		path   string
		audio  bool
		tagged bool
		want   index.Track // tag fields only
	}{
		{"pf/wall/01.flac", true, true, wall},
		{"pf/wall/02.MP3", true, true, wall},
		{"v22.mp3", true, true, wall},
		{"v24.mp3", true, true, bjork},
		{"v1.mp3", true, true, index.Track{Title: "Old", Artists: []string{"Timer"}, Album: "Vintage", Year: 1988, Track: 4}},
		{"bjork.flac", true, true, bjork},
		{"vorbis.ogg", true, true, wall},
		{"opus.opus", true, true, bjork},
		{"apple.m4a", true, true, wall},
		{"blank.flac", true, true, index.Track{Track: 2}},
		{".hidden/track.flac", true, true, index.Track{Title: "Hidden"}},
		{"pf/wall/cover.jpg", false, false, index.Track{}},
		{"notes.txt", false, false, index.Track{}},
		{"untagged.wav", true, false, index.Track{}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			tr := got["lib/"+tt.path]
			if tr == nil {
				t.Fatal("not indexed")
			}
			if tr.Audio != tt.audio || tr.Tagged != tt.tagged {
				t.Fatalf("Audio=%v Tagged=%v, want %v %v", tr.Audio, tr.Tagged, tt.audio, tt.tagged)
			}
			if tr.Origin != "lib" || tr.RelPath != tt.path || tr.Size != int64(len(files[tt.path])) || tr.ModTime.IsZero() {
				t.Fatalf("identity %q %q %d %v", tr.Origin, tr.RelPath, tr.Size, tr.ModTime)
			}
			if got, want := tagLine(tr), tagLine(&tt.want); got != want {
				t.Fatalf("tags\n got %s\nwant %s", got, want)
			}
		})
	}

	s := e.ix.Stats()
	if s.Files != 14 || s.Audio != 12 || s.Tagged != 11 || s.Failed != 1 || s.Scanning || s.ScanDone != 1 {
		t.Fatalf("stats %+v", s)
	}
	if v := promtest.Value(t, e.reg, "musicfs_index_tracks"); v != 12 {
		t.Fatalf("musicfs_index_tracks = %v, want 12", v)
	}
	if v := promtest.Value(t, e.reg, "musicfs_scan_files_total"); v != 14 {
		t.Fatalf("musicfs_scan_files_total = %v, want 14", v)
	}
	select {
	case <-e.src.Updated():
	default:
		t.Fatal("Updated not signalled after the scan")
	}
}

func TestScanSurvivesMalformedFiles(t *testing.T) {
	root := t.TempDir()
	bad := malformed()
	writeLibrary(t, root, bad)
	writeLibrary(t, root, map[string][]byte{"good/ok.flac": flac(wallTags)})
	e := start(t, map[string]string{"lib": root}, envOpt{})
	e.waitScanned(t, 20*time.Second)

	got := e.byPath()
	for rel := range bad {
		tr := got["lib/"+rel]
		if tr == nil || !tr.Audio {
			t.Errorf("%s: not listed as audio (%+v)", rel, tr)
		}
	}
	if tr := got["lib/good/ok.flac"]; tr == nil || !tr.Tagged || tr.Title != wallTags.Title {
		t.Fatalf("the good file beside the bad ones: %+v", tr)
	}
	if v := promtest.Value(t, e.reg, "musicfs_scan_panics_total"); v != 0 {
		t.Errorf("%v panics", v)
	}
	if s := e.ix.Stats(); s.Failed < 10 {
		t.Errorf("only %d files failed: %+v", s.Failed, s)
	}
}

// A tag claiming more data than any real tag holds, in a file that really is
// that large: reading stops at the tag budget instead of pulling it all into
// memory.
func TestHugeTagReadIsCapped(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "huge.mp3")
	hdr := append([]byte{'I', 'D', '3', 3, 0, 0}, syncsafe(250<<20)...)
	hdr = append(hdr, []byte("TIT2\x0e\x00\x00\x00\x00\x00")...) // one 234 MiB frame
	writeLibrary(t, root, map[string][]byte{"huge.mp3": hdr})
	if err := os.Truncate(p, 240<<20); err != nil { // sparse: costs no disk
		t.Fatal(err)
	}
	f := &faults{}
	e := start(t, map[string]string{"lib": root}, envOpt{
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	e.waitScanned(t, 20*time.Second)
	if tr := e.byPath()["lib/huge.mp3"]; tr == nil || tr.Tagged {
		t.Fatalf("huge.mp3: %+v, want listed untagged", tr)
	}
	if n := f.bytesRead("huge.mp3"); n > 65<<20 {
		t.Fatalf("read %d MiB of tag data, want at most the 64 MiB budget", n>>20)
	}
}

func TestHangingReadTimesOut(t *testing.T) {
	root := t.TempDir()
	writeLibrary(t, root, map[string][]byte{
		"hang.mp3": mp3(3, wallTags),
		"a.flac":   flac(wallTags),
		"b.flac":   flac(unicodeTags),
	})
	f := &faults{hang: map[string]bool{"hang.mp3": true}, release: make(chan struct{})}
	defer close(f.release) // the blocked read returns when the test ends
	cfg := index.Config{Workers: 2, FileTimeout: 300 * time.Millisecond}
	e := start(t, map[string]string{"lib": root}, envOpt{
		cfg:      &cfg,
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	started := time.Now()
	e.waitScanned(t, 5*time.Second)
	if d := time.Since(started); d > 3*time.Second {
		t.Fatalf("scan took %v with a 300ms per-file timeout", d)
	}
	got := e.byPath()
	if tr := got["lib/hang.mp3"]; tr == nil || !tr.Audio || tr.Tagged {
		t.Fatalf("hanging file: %+v, want listed untagged", tr)
	}
	if tr := got["lib/a.flac"]; tr == nil || !tr.Tagged {
		t.Fatalf("a.flac: %+v", tr)
	}
	if n := e.logs.FilterMessageSnippet("tags not read").FilterField(zap.String("relpath", "hang.mp3")).Len(); n != 1 {
		t.Fatalf("%d log lines for the hanging file, want 1", n)
	}
	if v := promtest.Value(t, e.reg, "musicfs_scan_errors_total"); v != 1 {
		t.Fatalf("musicfs_scan_errors_total = %v, want 1", v)
	}

	// A timed-out file is read again by the next scan, even unchanged.
	e.rescan(t)
	if n := f.opened("hang.mp3"); n != 2 {
		t.Fatalf("hang.mp3 opened %d times after a rescan, want 2", n)
	}
	if n := f.opened("a.flac"); n != 1 {
		t.Fatalf("unchanged a.flac opened %d times after a rescan, want 1", n)
	}
}

func TestPublishesWhileScanning(t *testing.T) {
	root := t.TempDir()
	writeLibrary(t, root, map[string][]byte{"hang.mp3": mp3(3, wallTags), "a.flac": flac(wallTags)})
	f := &faults{hang: map[string]bool{"hang.mp3": true}, release: make(chan struct{})}
	defer close(f.release)
	cfg := index.Config{FileTimeout: 4 * time.Second}
	e := start(t, map[string]string{"lib": root}, envOpt{
		cfg:      &cfg,
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	select {
	case <-e.src.Updated():
	case <-time.After(3 * time.Second):
		t.Fatal("nothing published within 3s while one file hangs")
	}
	select {
	case <-e.ix.Scanned():
		t.Fatal("scan finished although a file is still hanging")
	default:
	}
	if tr := e.byPath()["lib/a.flac"]; tr == nil || !tr.Tagged {
		t.Fatalf("a.flac not published during the scan: %v", e.ix.Tracks())
	}
	if !e.ix.Stats().Scanning {
		t.Fatal("Stats().Scanning false during a scan")
	}
}

func TestPanicInOriginIsContained(t *testing.T) {
	root := t.TempDir()
	writeLibrary(t, root, map[string][]byte{"boom.flac": flac(wallTags), "ok.flac": flac(wallTags)})
	f := &faults{panics: map[string]bool{"boom.flac": true}}
	e := start(t, map[string]string{"lib": root}, envOpt{
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	e.waitScanned(t, 5*time.Second)

	got := e.byPath()
	if tr := got["lib/boom.flac"]; tr == nil || !tr.Audio || tr.Tagged {
		t.Fatalf("boom.flac: %+v, want listed untagged", tr)
	}
	if tr := got["lib/ok.flac"]; tr == nil || !tr.Tagged {
		t.Fatalf("ok.flac: %+v", tr)
	}
	if v := promtest.Value(t, e.reg, "musicfs_scan_panics_total"); v != 1 {
		t.Fatalf("musicfs_scan_panics_total = %v, want 1", v)
	}
	logs := e.logs.FilterMessageSnippet("panicked").All()
	if len(logs) != 1 {
		t.Fatalf("%d panic logs, want 1", len(logs))
	}
	fields := logs[0].ContextMap()
	stack, _ := fields["stack"].(string)
	if fields["relpath"] != "boom.flac" || !strings.Contains(fmt.Sprint(fields["panic"]), "origin exploded") ||
		!strings.Contains(stack, "faultyOrigin.Open") {
		t.Fatalf("panic log fields %v", fields)
	}
}

func TestRescanAppliesChanges(t *testing.T) {
	root := t.TempDir()
	writeLibrary(t, root, map[string][]byte{
		"keep.flac":  flac(wallTags),
		"retag.flac": flac(testTags{Title: "Before"}),
		"delete.mp3": mp3(3, wallTags),
		"notes.txt":  []byte("x"),
	})
	f := &faults{}
	e := start(t, map[string]string{"lib": root}, envOpt{
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	e.waitScanned(t, 5*time.Second)
	before := e.byPath()

	writeAt(t, root, "added.flac", flac(testTags{Title: "New"}), time.Now())
	writeAt(t, root, "retag.flac", flac(testTags{Title: "After"}), time.Now())
	if err := os.Remove(filepath.Join(root, "delete.mp3")); err != nil {
		t.Fatal(err)
	}
	e.rescan(t)

	after := e.byPath()
	if len(after) != 4 {
		t.Fatalf("after rescan: %v", after)
	}
	if after["lib/delete.mp3"] != nil {
		t.Fatal("deleted file still listed")
	}
	if tr := after["lib/added.flac"]; tr == nil || tr.Title != "New" {
		t.Fatalf("added file: %+v", tr)
	}
	if tr := after["lib/retag.flac"]; tr == nil || tr.Title != "After" {
		t.Fatalf("re-tagged file: %+v", tr)
	}
	if after["lib/keep.flac"] != before["lib/keep.flac"] {
		t.Fatal("unchanged file got a new record")
	}
	if n := f.opened("keep.flac"); n != 1 {
		t.Fatalf("unchanged file opened %d times, want 1 (no re-read)", n)
	}
	if before["lib/retag.flac"].Title != "Before" {
		t.Fatal("a published record was modified")
	}
	if s := e.ix.Stats(); s.ScanDone != 2 || s.Files != 4 {
		t.Fatalf("stats %+v", s)
	}
}

func TestOfflineOriginKeepsTracks(t *testing.T) {
	parent := t.TempDir()
	nas := filepath.Join(parent, "nas")
	local := t.TempDir()
	writeLibrary(t, nas, map[string][]byte{"a/1.flac": flac(wallTags), "a/2.flac": flac(unicodeTags)})
	writeLibrary(t, local, map[string][]byte{"x.flac": flac(wallTags), "y.flac": flac(wallTags)})
	e := start(t, map[string]string{"nas": nas, "local": local}, envOpt{})
	e.waitScanned(t, 5*time.Second)
	if n := len(e.ix.Tracks()); n != 4 {
		t.Fatalf("%d tracks, want 4", n)
	}
	before := e.byPath()

	// The NAS goes away; at the same time a local file is deleted.
	if err := os.Rename(nas, nas+".gone"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(local, "y.flac")); err != nil {
		t.Fatal(err)
	}
	e.rescan(t)
	got := e.byPath()
	if got["nas/a/1.flac"] == nil || got["nas/a/2.flac"] == nil {
		t.Fatalf("offline origin lost its tracks: %v", got)
	}
	if got["local/y.flac"] != nil || got["local/x.flac"] == nil {
		t.Fatalf("online origin's deletion not applied: %v", got)
	}
	if o, _ := e.set.Get("nas"); o.Online() {
		t.Fatal("nas still online")
	}

	// Back: still there, nothing re-read.
	if err := os.Rename(nas+".gone", nas); err != nil {
		t.Fatal(err)
	}
	e.rescan(t)
	if got := e.byPath(); len(got) != 3 || got["nas/a/1.flac"] != before["nas/a/1.flac"] {
		t.Fatalf("after the origin came back: %v", got)
	}
}

func TestIncompleteWalkKeepsUnseenTracks(t *testing.T) {
	root := t.TempDir()
	writeLibrary(t, root, map[string][]byte{"a.flac": flac(wallTags), "b.flac": flac(wallTags)})
	f := &faults{}
	e := start(t, map[string]string{"lib": root}, envOpt{
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	e.waitScanned(t, 5*time.Second)

	// The next walk does not see b.flac and ends with an error: b stays.
	f.skip, f.walkErr = "b.flac", fmt.Errorf("walk lib: 1 unreadable directories skipped: %w", origins.ErrIncomplete)
	if err := os.Remove(filepath.Join(root, "a.flac")); err != nil {
		t.Fatal(err)
	}
	e.rescan(t)
	if got := e.byPath(); got["lib/b.flac"] == nil || got["lib/a.flac"] == nil {
		t.Fatalf("an incomplete walk removed tracks: %v", got)
	}
	if e.logs.FilterMessageSnippet("walk incomplete").Len() != 1 {
		t.Fatal("incomplete walk not logged")
	}
}

func TestStopDuringScan(t *testing.T) {
	root := t.TempDir()
	files := map[string][]byte{}
	for i := range 300 {
		files[fmt.Sprintf("d%02d/%03d.flac", i%30, i)] = flac(wallTags)
	}
	writeLibrary(t, root, files)
	f := &faults{hang: map[string]bool{"d00/000.flac": true}, release: make(chan struct{})}
	defer close(f.release)
	e := start(t, map[string]string{"lib": root}, envOpt{
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	stopped := make(chan error, 1)
	go func() { stopped <- e.ix.Stop(t.Context()) }()
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not return while a read hangs")
	}
}

func TestModuleWiring(t *testing.T) {
	root := t.TempDir()
	oc := origins.Config{Origins: []origins.OriginConfig{{Name: "lib", Path: root}}}
	reg := prometheus.NewRegistry()
	graph := []fx.Option{
		origins.Module, index.Module,
		fx.Supply(oc),
		fx.Provide(zap.NewNop, func() prometheus.Registerer { return reg }),
	}
	if err := fx.ValidateApp(append(graph, fx.Invoke(func(index.Source, *index.Index) {}))...); err != nil {
		t.Fatal(err)
	}

	// Source can be decorated, as the tree's tests do.
	type wrapped struct{ index.Source }
	var src index.Source
	fxtest.New(t, append(graph,
		fx.Decorate(func(s index.Source) index.Source { return wrapped{s} }),
		fx.Populate(&src),
	)...).RequireStart().RequireStop()
	if _, ok := src.(wrapped); !ok {
		t.Fatalf("got %T, want the decorated source", src)
	}

	// Bad config is refused by New.
	err := fx.New(append(graph[:len(graph):len(graph)], fx.Supply(index.Config{Workers: -1}), fx.Invoke(func(*index.Index) {}), fx.NopLogger)...).Err()
	if err == nil || !strings.Contains(err.Error(), "index.workers") {
		t.Fatalf("bad config: %v", err)
	}
}

// A walk that skipped unreadable directories keeps only the records under
// them: everything else it did not see is gone.
func TestSkippedDirsKeepOnlyTheirTracks(t *testing.T) {
	root := t.TempDir()
	writeLibrary(t, root, map[string][]byte{
		"Album/a.flac": flac(wallTags), "Album/b.flac": flac(wallTags), "Album/sub/c.flac": flac(wallTags),
		"Albumx/d.flac": flac(wallTags), "top.flac": flac(wallTags), "other/e.flac": flac(wallTags),
	})
	f := &faults{}
	e := start(t, map[string]string{"lib": root}, envOpt{
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	e.waitScanned(t, 5*time.Second)

	for _, rel := range []string{"Album/a.flac", "Albumx/d.flac", "top.flac"} {
		if err := os.Remove(filepath.Join(root, rel)); err != nil {
			t.Fatal(err)
		}
	}
	f.skipDirs = []string{"Album"}
	e.rescan(t)
	got := e.byPath()
	for rel, want := range map[string]bool{
		"Album/a.flac": true, "Album/b.flac": true, "Album/sub/c.flac": true, // under the skipped dir: unknown
		"Albumx/d.flac": false, "top.flac": false, // not seen outside it: gone
		"other/e.flac": true,
	} {
		if (got["lib/"+rel] != nil) != want {
			t.Errorf("%s listed: %v, want %v", rel, got["lib/"+rel] != nil, want)
		}
	}
	if len(e.ix.Offline()) != 0 {
		t.Errorf("Offline() = %v", e.ix.Offline())
	}
}

// One permanently unreadable directory (lost+found when the daemon runs as
// its own user) must not keep an origin offline once it is back, nor turn
// every watch event into a full rescan of it.
func TestSkippedDirDoesNotKeepOriginOffline(t *testing.T) {
	parent := t.TempDir()
	root := filepath.Join(parent, "lib")
	writeLibrary(t, root, map[string][]byte{"a.flac": flac(wallTags), "b.flac": flac(wallTags), "lost+found/x": nil})
	f := &faults{skipDirs: []string{"lost+found"}}
	e := start(t, map[string]string{"lib": root}, envOpt{
		decorate: func(s origins.Set) origins.Set { return faultySet{s, f} },
	})
	e.waitScanned(t, 5*time.Second)

	if err := os.Rename(root, root+".away"); err != nil {
		t.Fatal(err)
	}
	e.rescan(t)
	if !slices.Equal(e.ix.Offline(), []string{"lib"}) {
		t.Fatalf("origin away: Offline() = %v", e.ix.Offline())
	}
	if err := os.Rename(root+".away", root); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, "a.flac")); err != nil {
		t.Fatal(err)
	}
	e.rescan(t)
	if off := e.ix.Offline(); len(off) != 0 {
		t.Fatalf("origin back and walked, but Offline() = %v", off)
	}
	if e.byPath()["lib/a.flac"] != nil {
		t.Fatal("a.flac deleted on the origin is still listed after a full rescan")
	}

	walks := f.walks.Load()
	writeAt(t, root, "c.flac", flac(wallTags), time.Now())
	e.ix.Refresh("lib", []string{"c.flac"})
	waitFor(t, 2*time.Second, "c.flac indexed", func() bool { return e.byPath()["lib/c.flac"] != nil })
	if n := f.walks.Load() - walks; n != 0 {
		t.Fatalf("a refresh of one file walked the origin %d times", n)
	}
}
