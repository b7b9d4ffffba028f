package fusefs

import (
	"sync"
	"time"
)

// errLogFiles bounds how many files errLog remembers; past it, it forgets
// them all (a burst over many files is logged again, once each).
const errLogFiles = 4096

// errLog limits warnings about failed requests to one per file per
// interval: a player retrying a file on an offline origin would otherwise
// log every read.
type errLog struct {
	every time.Duration
	now   func() time.Time

	mu   sync.Mutex           // guards last
	last map[uint64]time.Time // by inode
}

// allow reports whether an error of file ino is to be logged now.
func (l *errLog) allow(ino uint64) bool {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if t, ok := l.last[ino]; ok && now.Sub(t) < l.every {
		return false
	}
	if l.last == nil || len(l.last) >= errLogFiles {
		l.last = make(map[uint64]time.Time)
	}
	l.last[ino] = now
	return true
}
