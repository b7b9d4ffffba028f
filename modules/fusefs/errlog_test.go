package fusefs

import (
	"testing"
	"time"
)

// A player retrying a file whose origin is down must not flood the log:
// one line per file per interval, then the next once it has passed.
func TestErrLogLimitsPerFile(t *testing.T) {
	now := time.Unix(1000, 0)
	l := errLog{every: 30 * time.Second, now: func() time.Time { return now }}
	if !l.allow(1) {
		t.Fatal("first error of a file not logged")
	}
	for range 100 {
		if l.allow(1) {
			t.Fatal("a repeat within the interval was logged")
		}
	}
	if !l.allow(2) {
		t.Fatal("another file's first error not logged")
	}
	now = now.Add(31 * time.Second)
	if !l.allow(1) {
		t.Fatal("an error after the interval not logged")
	}
	for ino := range uint64(2 * errLogFiles) {
		l.allow(100 + ino)
	}
	if n := len(l.last); n > errLogFiles {
		t.Fatalf("remembers %d files, want at most %d", n, errLogFiles)
	}
}
