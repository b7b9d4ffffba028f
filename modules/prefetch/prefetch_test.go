package prefetch_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zapcore"

	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/prefetch"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// library is a small library exercising the album rules.
func library() map[string]*index.Track {
	lib := map[string]*index.Track{}
	add := func(t *index.Track, edit func(*index.Track)) {
		if edit != nil {
			edit(t)
		}
		lib[t.RelPath] = t
	}
	// Listed out of order: the index has no order.
	add(track("al/03.flac", 1, 3, 10*MiB), nil)
	add(track("al/01.flac", 1, 1, 10*MiB), nil)
	add(track("al/02.flac", 1, 2, 1*MiB), nil) // smaller than a head
	add(track("al/cover.jpg", 0, 0, 100), func(t *index.Track) { t.Audio = false })
	// Same album name, other artist; and the same tags in another origin.
	add(track("other/02.flac", 1, 2, 10*MiB), func(t *index.Track) { t.Artists = []string{"B"} })
	add(track("copy/02.flac", 1, 2, 10*MiB), func(t *index.Track) { t.Origin = "p" })
	// Two discs.
	for _, d := range []struct {
		rel       string
		disc, num int
	}{{"m/2-02.flac", 2, 2}, {"m/1-09.flac", 1, 9}, {"m/2-01.flac", 2, 1}, {"m/1-08.flac", 1, 8}} {
		add(track(d.rel, d.disc, d.num, 10*MiB), func(t *index.Track) { t.Album = "M" })
	}
	// A compilation: one album artist, many artists.
	for i, a := range []string{"X", "Y", "Z"} {
		add(track("va/0"+string(rune('1'+i))+".flac", 1, i+1, 10*MiB), func(t *index.Track) {
			t.Album, t.Artists, t.AlbumArtists = "Hits", []string{a}, []string{"VA"}
		})
	}
	// Missing numbers: numbered first, then by relpath.
	add(track("n/c.flac", 0, 1, 10*MiB), func(t *index.Track) { t.Album = "N" })
	add(track("n/b.flac", 0, 0, 10*MiB), func(t *index.Track) { t.Album = "N" })
	add(track("n/a.flac", 0, 0, 10*MiB), func(t *index.Track) { t.Album = "N" })
	// A disc number missing on one track: disc 1.
	add(track("d/01.flac", 1, 1, 10*MiB), func(t *index.Track) { t.Album = "D" })
	add(track("d/02.flac", 0, 2, 10*MiB), func(t *index.Track) { t.Album = "D" })
	// Same name and artist, another year: another release.
	add(track("r1/01.flac", 1, 1, 10*MiB), func(t *index.Track) { t.Album, t.Year = "R", 1970 })
	add(track("r2/02.flac", 1, 2, 10*MiB), func(t *index.Track) { t.Album, t.Year = "R", 2010 })
	// No album tag: not an album.
	add(track("loose/01.flac", 0, 1, 10*MiB), func(t *index.Track) { t.Album = "" })
	add(track("loose/02.flac", 0, 2, 10*MiB), func(t *index.Track) { t.Album = "" })
	// The sentinel: opening s/1 fetches s/2, which marks the end of a case.
	add(track("s/1.flac", 1, 1, 10*MiB), func(t *index.Track) { t.Album = "S" })
	add(track("s/2.flac", 1, 2, 10*MiB), func(t *index.Track) { t.Album = "S" })
	return lib
}

func tracksOf(lib map[string]*index.Track) []*index.Track {
	var out []*index.Track
	for _, t := range lib {
		out = append(out, t)
	}
	return out
}

// untilSentinel collects the calls that start before the sentinel's.
func untilSentinel(t *testing.T, f *fakeFetcher) []string {
	t.Helper()
	var got []string
	for {
		c := wait(t, f.started, "sentinel fetch")
		if c.Key.RelPath == "s/2.flac" {
			return got
		}
		got = append(got, c.String())
	}
}

func TestOpenedFetchesHeadsOfNextTracks(t *testing.T) {
	tests := []struct {
		name string
		next int
		open string
		want []string
	}{
		{"first of three", 0, "al/01.flac", []string{"o/al/02.flac[0+1048576]", "o/al/03.flac[0+2097152]"}},
		{"middle", 0, "al/02.flac", []string{"o/al/03.flac[0+2097152]"}},
		{"last", 0, "al/03.flac", nil},
		{"next_tracks 1", 1, "al/01.flac", []string{"o/al/02.flac[0+1048576]"}},
		{"disc 1 track 9 then disc 2", 0, "m/1-09.flac", []string{"o/m/2-01.flac[0+2097152]", "o/m/2-02.flac[0+2097152]"}},
		{"compilation by album artist", 0, "va/01.flac", []string{"o/va/02.flac[0+2097152]", "o/va/03.flac[0+2097152]"}},
		{"missing numbers by relpath", 0, "n/c.flac", []string{"o/n/a.flac[0+2097152]", "o/n/b.flac[0+2097152]"}},
		{"missing disc is disc 1", 0, "d/01.flac", []string{"o/d/02.flac[0+2097152]"}},
		{"other artist's album of that name", 0, "other/02.flac", nil},
		{"same tags in another origin", 0, "copy/02.flac", nil},
		{"another release", 0, "r1/01.flac", nil},
		{"no album tag", 0, "loose/01.flac", nil},
		{"not in the index", 0, "gone.flac", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lib := library()
			h := start(t, prefetch.Config{PlayAfter: -1, Workers: 1, NextTracks: tc.next, Window: -1}, newFakeFetcher(), tracksOf(lib)...)
			opened := lib[tc.open]
			if opened == nil {
				opened = track(tc.open, 1, 1, 10*MiB)
			}
			s := h.p.Opened(opened)
			defer s.Close()
			sentinel := h.p.Opened(lib["s/1.flac"])
			defer sentinel.Close()

			if got := untilSentinel(t, h.f); !slices.Equal(got, tc.want) {
				t.Fatalf("fetched %q, want %q", got, tc.want)
			}
			if got, want := promtest.Value(t, h.reg, "musicfs_prefetch_requests_total", "kind", "next"), float64(len(tc.want)+1); got != want {
				t.Errorf("requests{next} = %v, want %v", got, want)
			}
		})
	}
}

// readAheadCfg turns next-track prefetch off so only read-ahead is seen.
var readAheadCfg = prefetch.Config{PlayAfter: -1, Workers: 1, NextTracks: -1, Window: 4 * MiB, Chunk: MiB}

func TestReadAheadRequestsEachRangeOnce(t *testing.T) {
	f := newFakeFetcher()
	big := track("big.flac", 1, 1, 10*MiB+MiB/2)
	h := start(t, readAheadCfg, f, big)
	s := h.p.Opened(big)
	defer s.Close()

	const K = 1 << 10
	chunk := func(i int64) string {
		n := min(int64(MiB), big.Size-i*MiB)
		return call{keyOf(big), i * MiB, n}.String()
	}
	steps := []struct {
		name   string
		off, n int64
		want   []int64 // chunks newly requested
	}{
		{"first read warms the window", 0, 128 * K, []int64{0, 1, 2, 3, 4}},
		{"within the window", 128 * K, 128 * K, nil},
		{"up to a chunk boundary", MiB - 128*K, 128 * K, nil},
		{"past it: one more chunk", MiB, 64 * K, []int64{5}},
		{"seek back", 0, 4 * K, nil},
		{"seek forward, clipped at the end", 8 * MiB, 128 * K, []int64{8, 9, 10}},
		{"the gap behind", 6 * MiB, MiB, []int64{7}},
		{"at the end", 10 * MiB, MiB / 2, nil},
	}
	total, bytes := 0, int64(0)
	for _, st := range steps {
		s.Read(st.off, st.n)
		var got, want []string
		for _, i := range st.want {
			want = append(want, chunk(i))
			got = append(got, wait(t, f.started, st.name).String())
			wait(t, f.ended, st.name)
			bytes += min(int64(MiB), big.Size-i*MiB)
		}
		total += len(st.want)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: fetched %q, want %q", st.name, got, want)
		}
	}
	// Once the worker (a single one) got to a new request, every earlier
	// one has been handled: nothing else was requested.
	other := track("other.flac", 1, 1, MiB/2)
	so := h.p.Opened(other)
	defer so.Close()
	so.Read(0, 1)
	if c := wait(t, f.started, "the last request"); c.Key.RelPath != "other.flac" {
		t.Fatalf("unexpected request %v", c)
	}
	wait(t, f.ended, "the last request")
	if got := promtest.Value(t, h.reg, "musicfs_prefetch_requests_total", "kind", "readahead"); got != float64(total+1) {
		t.Errorf("requests{readahead} = %v, want %v", got, total+1)
	}
	if got := promtest.Value(t, h.reg, "musicfs_prefetch_bytes_total"); got != float64(bytes+MiB/2) {
		t.Errorf("bytes = %v, want %v", got, bytes+MiB/2)
	}
}

func TestConcurrentReadsRequestEachChunkOnce(t *testing.T) {
	f := newFakeFetcher()
	big := track("big.flac", 1, 1, 64*MiB)
	cfg := readAheadCfg
	cfg.Workers, cfg.Queue = 2, 1024
	h := start(t, cfg, f, big)
	s := h.p.Opened(big)
	defer s.Close()

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				s.Read(r.Int64N(big.Size), 128<<10)
			}
		})
	}
	wg.Wait()
	s.Read(big.Size-1, 1) // covers nothing new
	// 1600 random reads leave no chunk unrequested (chunk 0, the least
	// likely, is missed with probability e^-22).
	seen := map[int64]bool{}
	for len(seen) < 64 {
		c := wait(t, f.started, "a chunk")
		if seen[c.Off] {
			t.Fatalf("chunk at %d requested twice", c.Off)
		}
		seen[c.Off] = true
	}
	none(t, f.started, "request after every chunk was requested")
}

func TestCloseCancelsTheSessionsWork(t *testing.T) {
	lib := library()
	f := newFakeFetcher()
	f.block = true
	h := start(t, prefetch.Config{PlayAfter: -1, Workers: 1, Window: 4 * MiB, Chunk: MiB}, f, tracksOf(lib)...)
	s := h.p.Opened(lib["al/01.flac"])
	wait(t, f.started, "the blocked head fetch")
	s.Read(0, 1) // queued behind it

	began := time.Now()
	s.Close()
	if err := wait(t, f.ended, "the cancelled fetch"); !errors.Is(err, context.Canceled) {
		t.Fatalf("fetch ended with %v", err)
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("cancelling took %v", d)
	}
	// The rest of the session's work (al/03's head, the read-ahead) is
	// dropped; another session's starts at once.
	other := h.p.Opened(lib["s/1.flac"])
	defer other.Close()
	if c := wait(t, f.started, "the other session's fetch"); c.Key.RelPath != "s/2.flac" {
		t.Fatalf("closed session's work ran: %v", c)
	}
	s.Read(MiB, MiB) // no effect after Close
	none(t, f.started, "fetch")
	if got := promtest.Value(t, h.reg, "musicfs_prefetch_errors_total"); got != 0 {
		t.Errorf("errors = %v; a cancelled fetch is no error", got)
	}
}

func TestStopCancelsEverythingAndWaits(t *testing.T) {
	lib := library()
	f := newFakeFetcher()
	f.block = true
	h := start(t, prefetch.Config{PlayAfter: -1, Workers: 2, Window: 4 * MiB, Chunk: MiB}, f, tracksOf(lib)...)
	var sessions []*prefetch.Session
	for _, rel := range []string{"al/01.flac", "m/1-08.flac", "va/01.flac", "n/c.flac"} {
		s := h.p.Opened(lib[rel])
		s.Read(0, 1)
		sessions = append(sessions, s)
	}
	wait(t, f.started, "first blocked fetch")
	wait(t, f.started, "second blocked fetch")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	if err := h.p.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("Stop took %v", d)
	}
	if n := f.running.Load(); n != 0 {
		t.Fatalf("%d fetches still running after Stop", n)
	}
	goleak.VerifyNone(t, goleak.IgnoreTopFunction("github.com/musicfs/musicfs/modules/tree.(*Tree).run"))

	// After Stop nothing more is fetched, and sessions are harmless.
	late := h.p.Opened(lib["s/1.flac"])
	late.Read(0, MiB)
	late.Close()
	for _, s := range sessions {
		s.Read(MiB, MiB)
		s.Close()
	}
	for range len(f.started) {
		<-f.started
	}
	none(t, f.started, "fetch after Stop")
}

func TestFetchErrorsAreCountedLoggedQuietlyAndNotRetried(t *testing.T) {
	lib := library()
	f := newFakeFetcher()
	f.err = errors.New("origin asleep")
	h := start(t, prefetch.Config{PlayAfter: -1, Workers: 1, Window: 2 * MiB, Chunk: MiB}, f, tracksOf(lib)...)
	s := h.p.Opened(lib["al/01.flac"])
	defer s.Close()
	// The first failing head ends the album's prefetch: the next head
	// would meet the same offline origin or full disk.
	if c := wait(t, f.started, "head"); c.Key.RelPath != "al/02.flac" {
		t.Fatalf("first fetch %v", c)
	}
	s.Read(0, 1)
	for range 3 { // chunks 0, 1, 2
		if c := wait(t, f.started, "read-ahead"); c.Key.RelPath != "al/01.flac" {
			t.Fatalf("fetch %v, want read-ahead of al/01 (al/03's head must not be tried)", c)
		}
	}
	s.Read(0, 1) // failed ranges are not asked for again
	s.Read(MiB, 1)
	c := wait(t, f.started, "the one new chunk")
	if c.Off != 3*MiB {
		t.Fatalf("fetch %v, want the chunk at 3 MiB only", c)
	}
	none(t, f.started, "retry")
	if got := promtest.Value(t, h.reg, "musicfs_prefetch_errors_total"); got != 5 {
		t.Errorf("errors = %v, want 5", got)
	}
	if got := promtest.Value(t, h.reg, "musicfs_prefetch_bytes_total"); got != 0 {
		t.Errorf("bytes = %v, want 0", got)
	}
	if n := h.logs.FilterLevelExact(zapcore.DebugLevel).FilterMessage("prefetch failed").Len(); n != 5 {
		t.Errorf("%d debug logs, want 5: %v", n, h.logs.All())
	}
	for _, e := range h.logs.All() {
		if e.LoggerName == "prefetch" && e.Level > zapcore.DebugLevel {
			t.Errorf("logged at %v: %s", e.Level, e.Message)
		}
	}
}

func TestFullQueueDropsTheOldestRequests(t *testing.T) {
	f := newFakeFetcher()
	f.gate = make(chan struct{})
	big, small := track("big.flac", 1, 1, 100*MiB), track("small.flac", 1, 1, MiB)
	h := start(t, prefetch.Config{PlayAfter: -1, Workers: 1, NextTracks: -1, Window: 64 * MiB, Chunk: MiB, Queue: 4}, f, big, small)
	busy := h.p.Opened(small)
	defer busy.Close()
	busy.Read(0, 0)
	wait(t, f.started, "the worker busy")
	s := h.p.Opened(big)
	defer s.Close()
	s.Read(0, 0) // 64 chunks, room for 4
	close(f.gate)

	var got []int64
	for range 4 {
		got = append(got, wait(t, f.started, "queued chunk").Off/MiB)
	}
	if want := []int64{60, 61, 62, 63}; !slices.Equal(got, want) {
		t.Fatalf("ran chunks %v, want the newest %v", got, want)
	}
	none(t, f.started, "dropped request")
	if got := promtest.Value(t, h.reg, "musicfs_prefetch_dropped_total"); got != 60 {
		t.Errorf("dropped = %v, want 60", got)
	}
	// Dropped ranges were never fetched, so a later read asks again.
	s.Read(0, 0)
	if c := wait(t, f.started, "re-request"); c.Off/MiB >= 60 {
		t.Fatalf("re-requested %v", c)
	}
}

func TestAlbumsFollowTheCurrentSnapshot(t *testing.T) {
	one, two, three := track("al/01.flac", 1, 1, MiB), track("al/02.flac", 1, 2, MiB), track("al/03.flac", 1, 3, MiB)
	s1, s2 := track("s/1.flac", 1, 1, MiB), track("s/2.flac", 1, 2, MiB)
	s1.Album, s2.Album = "S", "S"
	f := newFakeFetcher()
	h := start(t, prefetch.Config{PlayAfter: -1, Workers: 1, Window: -1}, f, one, two, s1, s2)

	open := func(tr *index.Track) []string {
		s := h.p.Opened(tr)
		defer s.Close()
		sentinel := h.p.Opened(s1)
		defer sentinel.Close()
		return untilSentinel(t, f)
	}
	if got := open(two); got != nil {
		t.Fatalf("last track fetched %q", got)
	}
	// Only the first Opened after a swap reads the index.
	calls := h.src.Calls()
	open(one)
	open(two)
	if n := h.src.Calls() - calls; n != 0 {
		t.Errorf("index read %d times without a swap", n)
	}

	h.src.Set(one, two, three, s1, s2)
	wait(t, h.tree.Swapped(), "swap")
	if got, want := open(two), []string{"o/al/03.flac[0+1048576]"}; !slices.Equal(got, want) {
		t.Fatalf("after the swap fetched %q, want %q", got, want)
	}
}

func TestNilSessionIsHarmless(t *testing.T) {
	var p *prefetch.Prefetcher
	s := p.Opened(track("a.flac", 1, 1, MiB))
	s.Read(0, 1)
	s.Close()
}

// A file read only a little (a tag reader, a library scanner) prefetches
// nothing; once it has been read in sequence for PlayAfter bytes it counts
// as playback: read-ahead starts and the next tracks' heads are fetched.
func TestPrefetchWaitsForPlayback(t *testing.T) {
	lib := library()
	f := newFakeFetcher()
	h := start(t, prefetch.Config{Workers: 1, Window: 2 * MiB, Chunk: MiB, PlayAfter: 2 * MiB, NextTracks: 1}, f, tracksOf(lib)...)
	s := h.p.Opened(lib["al/01.flac"])
	defer s.Close()
	s.Read(0, 64<<10)                       // the tags at the start
	s.Read(lib["al/01.flac"].Size-128, 128) // and an ID3v1 tag at the end
	s.Read(0, 512<<10)
	none(t, f.started, "fetch while only tags were read")

	// Sequential reads, in kernel-sized pieces, some out of order.
	for _, off := range []int64{512 << 10, 640 << 10, 1024 << 10, 768 << 10, 896 << 10, 1152 << 10} {
		s.Read(off, 128<<10)
	}
	none(t, f.started, "fetch before PlayAfter bytes were read in sequence")
	s.Read(1280<<10, 1024<<10) // 2.25 MiB in sequence: playback
	var got []string
	for range 4 {
		got = append(got, wait(t, f.started, "prefetch after playback began").String())
	}
	slices.Sort(got)
	want := []string{"o/al/01.flac[2097152+1048576]", "o/al/01.flac[3145728+1048576]", "o/al/01.flac[4194304+1048576]", "o/al/02.flac[0+1048576]"}
	if !slices.Equal(got, want) {
		t.Fatalf("fetched %q, want %q", got, want)
	}
	none(t, f.started, "more fetches")
}
