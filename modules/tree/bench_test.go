package tree

import (
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// retained builds a snapshot of tracks and returns it with the growth of
// the live heap (HeapAlloc) and of in-use heap spans (HeapInuse) that it
// holds on to once the garbage of building it is collected.
func retained(tb testing.TB, n int) (s *Snapshot, alloc, inuse uint64) {
	tb.Helper()
	tracks := library(n)
	views := DefaultViews()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := Build(tracks, Config{Views: views})
	if err != nil {
		tb.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(tracks)
	return s, after.HeapAlloc - before.HeapAlloc, after.HeapInuse - before.HeapInuse
}

// TestSnapshotFootprint keeps snapshots small: the daemon holds one for as
// long as it runs, and two during a swap.
func TestSnapshotFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 20k-track snapshot")
	}
	const maxPerNode = 64 // bytes; 137 when nodes copied their records
	s, alloc, inuse := retained(t, 20000)
	per := float64(alloc) / float64(s.Len())
	t.Logf("%d nodes: %.1f MiB live (%.1f B/node), %.1f MiB in use", s.Len(), float64(alloc)/(1<<20), per, float64(inuse)/(1<<20))
	if per > maxPerNode {
		t.Errorf("snapshot holds %.1f B/node, want ≤ %d", per, maxPerNode)
	}
}

func BenchmarkBuild100k(b *testing.B) {
	tracks := library(100000)
	views := DefaultViews()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Build(tracks, Config{Views: views}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBuild20k(b *testing.B) {
	tracks := library(20000)
	views := DefaultViews()

	// The retained size of one snapshot, measured once.
	s, alloc, inuse := retained(b, 20000)

	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(tracks, Config{Views: views}); err != nil {
			b.Fatal(err)
		}
	}
	// After the loop: ResetTimer, which b.Loop calls, drops custom metrics.
	b.ReportMetric(float64(alloc)/(1<<20), "snapshot-MiB")
	b.ReportMetric(float64(inuse)/(1<<20), "inuse-MiB")
	b.ReportMetric(float64(alloc)/float64(s.Len()), "B/node")
	b.ReportMetric(float64(s.Len()), "nodes")
}

func BenchmarkNodeByIno(b *testing.B) {
	s := mustBuild(b, library(20000), DefaultViews())
	inos := make([]uint64, 0, s.Len())
	for _, p := range walk(s) {
		inos = append(inos, s.LookupPath(strings.TrimSuffix(p, "/")).Ino)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(inos), func(i, j int) { inos[i], inos[j] = inos[j], inos[i] })
	i := 0
	for b.Loop() {
		if s.Node(inos[i]) == nil {
			b.Fatal("lost a node")
		}
		if i++; i == len(inos) {
			i = 0
		}
	}
}
