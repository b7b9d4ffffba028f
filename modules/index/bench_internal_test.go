package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// syntheticTracks returns n sorted records shaped like a real library: ten
// tracks an album, five albums an artist, twenty genres.
func syntheticTracks(origin string, n int) []*Track {
	ts := make([]*Track, 0, n)
	mtime := time.Unix(1_700_000_000, 123456789)
	for i := range n {
		artist := fmt.Sprintf("Artist number %05d", i/50)
		album := fmt.Sprintf("Album title %06d", i/10)
		ts = append(ts, &Track{
			Origin: origin, RelPath: fmt.Sprintf("%s/%s/%02d Some Track Title %07d.flac", artist, album, i%10+1, i),
			Size: 30_000_000 + int64(i), ModTime: mtime.Add(time.Duration(i) * time.Second), Audio: true, Tagged: true,
			Title: fmt.Sprintf("Some Track Title %07d", i), Artists: []string{artist}, AlbumArtists: []string{artist}, Album: album,
			Genres: []string{fmt.Sprintf("Genre %02d", i%20)}, Year: 1960 + i%60, Track: i%10 + 1, Disc: 1, DiscTotal: 1,
		})
	}
	return sortedTracks(ts)
}

// writeSynthetic creates dir/index.db holding ts.
func writeSynthetic(tb testing.TB, dir string, ts []*Track) {
	tb.Helper()
	st, _, err := openState(dir, newInterner(0), zap.NewNop(), storeLockWait)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.close()
	for i := 0; i < len(ts); i += 10_000 {
		if err := st.write(batch{puts: ts[i:min(i+10_000, len(ts))], files: len(ts)}); err != nil {
			tb.Fatal(err)
		}
	}
}

const benchTracks = 100_000

// BenchmarkLoad100k measures opening and loading a store of 100k records,
// and the heap the loaded records take per track.
func BenchmarkLoad100k(b *testing.B) {
	dir := b.TempDir()
	writeSynthetic(b, dir, syntheticTracks("nas", benchTracks))
	path := filepath.Join(dir, "index.db")
	fi, _ := os.Stat(path)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	st, l, err := openStore(path, newInterner(0), zap.NewNop(), storeLockQuiet)
	if err != nil {
		b.Fatal(err)
	}
	st.close()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if len(l.tracks) != benchTracks {
		b.Fatalf("loaded %d", len(l.tracks))
	}
	heap := float64(after.HeapAlloc-before.HeapAlloc) / benchTracks
	runtime.KeepAlive(l)

	b.ReportAllocs()
	for b.Loop() {
		st, l, err := openStore(path, newInterner(0), zap.NewNop(), storeLockQuiet)
		if err != nil || len(l.tracks) != benchTracks {
			b.Fatal(err)
		}
		st.close()
	}
	// After the loop: b.Loop clears metrics reported before it.
	b.ReportMetric(heap, "heap-bytes/track")
	b.ReportMetric(float64(fi.Size())/benchTracks, "file-bytes/track")
}

// fixedSet is an origins.Set of given origins.
type fixedSet []origins.Origin

func (s fixedSet) List() []origins.Origin { return s }
func (s fixedSet) Get(name string) (origins.Origin, bool) {
	for _, o := range s {
		if o.Name() == name {
			return o, true
		}
	}
	return nil, false
}

// BenchmarkRefresh100k measures one Refresh of a changed, a new and a deleted
// file on a 100k-record index with a store: stat, tag read, persist, publish.
func BenchmarkRefresh100k(b *testing.B) {
	root, state := b.TempDir(), b.TempDir()
	for _, name := range []string{"changed.mp3", "new.mp3"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte("ID3 not really"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	log := zap.NewNop()
	lib := origins.NewLocal(origins.OriginConfig{Name: "lib", Path: root}, time.Second, log)
	ix, err := New(Params{Config: Config{StateDir: state}, Origins: fixedSet{lib}, Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	ts := syntheticTracks("lib", benchTracks)
	writeSynthetic(b, state, ts)
	if err := ix.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer ix.Stop(context.Background())
	ctx := context.Background()
	gone := ts[benchTracks/2].RelPath
	mtime := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		mtime = mtime.Add(time.Second)
		if err := os.Chtimes(filepath.Join(root, "changed.mp3"), mtime, mtime); err != nil {
			b.Fatal(err)
		}
		began := len(ix.Tracks())
		ix.refresh(ctx, map[string]map[string]struct{}{"lib": {"changed.mp3": {}, "new.mp3": {}, gone: {}}})
		if n := len(ix.Tracks()); began == benchTracks && n != benchTracks+1 {
			b.Fatalf("%d records after the first refresh", n)
		}
	}
}
