// Package bench holds the performance benchmarks: the musicfs daemon
// mounted over generated libraries, each operation measured on the mount
// and, where one exists, on the origin directory in the same run, and
// printed as a ratio with its target.
//
//	task bench
//	go test -run '^$' -bench . -benchtime 1x -timeout 30m ./internal/testing/bench/
//
// BenchmarkSequentialRead (about 1 GB of large files) and BenchmarkCache
// (an album behind an injected slow origin) measure reads;
// BenchmarkPassthroughOpen the cost of hashing a cached file at open;
// BenchmarkLibrary100k (100,000 small tracks) the scan, walks, memory,
// restart and change latency. Issue 9's read path: BenchmarkReadPath
// (cold sequential and random reads, then warm ones, ~1 GB),
// BenchmarkScannerPass (64 KiB from the head of each of 2,000 tracks: origin
// bytes and cache growth per byte read) and BenchmarkInFlightReads
// (goroutines per read held at the origin). The libraries are written to
// temporary directories on the filesystem of os.TempDir. The benchmarks
// need root and /dev/fuse; without them they are skipped.
package bench
