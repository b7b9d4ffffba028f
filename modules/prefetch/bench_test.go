package prefetch

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/tree"
)

// benchLibrary is n tracks in albums of 12 over two origins, every third
// album on two discs, listed in no particular order.
func benchLibrary(n int) []*index.Track {
	out := make([]*index.Track, 0, n)
	for i := range n {
		album, no := i/12, i%12+1
		disc := 1
		if album%3 == 0 && no > 6 {
			disc, no = 2, no-6
		}
		out = append(out, &index.Track{
			Origin: fmt.Sprintf("o%d", album%2), RelPath: fmt.Sprintf("artist %d/album %d/%d-%02d.flac", album/5, album, disc, no),
			Size: 30 << 20, ModTime: time.Unix(1e9, 0), Audio: true, Tagged: true,
			Artists: []string{fmt.Sprintf("Artist %d", album/5)}, Album: fmt.Sprintf("Album %d", album), Year: 1970 + album%50,
			Disc: disc, Track: no, Title: "t",
		})
	}
	// A fixed shuffle, so that grouping does real work.
	for i := range out {
		j := (i * 7919) % len(out)
		out[i], out[j] = out[j], out[i]
	}
	return out
}

type nopFetcher struct{}

func (nopFetcher) Fetch(context.Context, Key, int64, int64) error {
	return nil
}

func benchPrefetcher(b *testing.B, tracks []*index.Track) *Prefetcher {
	p, err := New(Params{Fetcher: nopFetcher{}, Source: staticSource(tracks), Logger: zap.NewNop(), Registerer: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	snap := &tree.Snapshot{}
	p.current = func() *tree.Snapshot { return snap }
	return p
}

type staticSource []*index.Track

func (s staticSource) Tracks() []*index.Track   { return s }
func (s staticSource) Updated() <-chan struct{} { return nil }

func BenchmarkAlbumIndexBuild100k(b *testing.B) {
	tracks := benchLibrary(100_000)
	b.ReportAllocs()
	for b.Loop() {
		buildAlbums(nil, tracks)
	}
}

// BenchmarkNextTracks100k is the work of an Opened once the album index of
// the snapshot exists: what a worker does before it fetches.
func BenchmarkNextTracks100k(b *testing.B) {
	tracks := benchLibrary(100_000)
	p := benchPrefetcher(b, tracks)
	began := time.Now()
	if len(p.next(fileID{tracks[0].Origin, tracks[0].RelPath})) == 0 && tracks[0].Track != 12 {
		b.Fatal("no next tracks")
	}
	build := time.Since(began)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		t := tracks[i%len(tracks)]
		p.next(fileID{t.Origin, t.RelPath})
		i++
	}
	b.ReportMetric(float64(build.Microseconds())/1e3, "first-build-ms")
}

// BenchmarkOpened100k is the caller's cost of Opened and Close, with the
// workers running.
func BenchmarkOpened100k(b *testing.B) {
	tracks := benchLibrary(100_000)
	p := benchPrefetcher(b, tracks)
	if err := p.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer p.Stop(context.Background())
	p.next(fileID{tracks[0].Origin, tracks[0].RelPath}) // the first build
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		s := p.Opened(tracks[i%len(tracks)])
		s.Read(0, 128<<10)
		s.Close()
		i++
	}
}
