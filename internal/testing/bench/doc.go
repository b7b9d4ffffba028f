// Package bench holds the performance benchmarks of issue 2: the musicfs
// binary mounted over generated libraries, each operation measured on the
// mount and on the origin directory in the same run and printed as a ratio.
//
//	task bench
//	go test -run '^$' -bench . -benchtime 1x -timeout 30m ./internal/testing/bench/
//
// The libraries (about 1 GB of large files and 20,000 small tracks) are
// written to temporary directories on the filesystem of os.TempDir. The
// benchmarks need root and /dev/fuse; without them they are skipped.
package bench
