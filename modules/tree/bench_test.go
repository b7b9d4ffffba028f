package tree

import (
	"runtime"
	"testing"
)

func BenchmarkBuild20k(b *testing.B) {
	tracks := library(20000)
	views := DefaultViews()

	// The retained size of one snapshot, measured once.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := Build(tracks, views)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)

	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(tracks, views); err != nil {
			b.Fatal(err)
		}
	}
	// After the loop: ResetTimer, which b.Loop calls, drops custom metrics.
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "snapshot-MiB")
	b.ReportMetric(float64(s.Len()), "nodes")
}
