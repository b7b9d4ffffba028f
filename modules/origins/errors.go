package origins

import (
	"errors"
	"fmt"
	"strings"

	"github.com/musicfs/musicfs/internal/bounded"
)

var (
	// ErrTimeout is wrapped by errors of origin operations (open, stat, read,
	// directory listing, health check) that got no answer within the read
	// timeout.
	ErrTimeout = bounded.ErrTimeout
	// ErrOffline is wrapped by errors of operations on an origin whose root is
	// missing or unreadable.
	ErrOffline = errors.New("origin offline")
	// ErrIncomplete is wrapped by the error of a Walk that visited everything
	// it could but had to skip unreadable directories. Callers must not read
	// the absence of a file from such a walk as a deletion.
	ErrIncomplete = errors.New("walk incomplete")
)

// IncompleteError is the error of a walk that skipped directories it could
// not read (or that timed out). It wraps ErrIncomplete. Only the absence of
// files under Skipped is unknown: everything else was seen, so a file not
// seen outside them is gone.
//
// Skipped is bounded: past 1000 directories it is just ".", the root of the
// origin, which means anything may be missing. It is "." too when the root
// itself could not be listed. It never holds a directory under another one
// it holds.
type IncompleteError struct {
	Origin  string
	Skipped []string // origin-relative directories, slash-separated, sorted

	count int // directories skipped, more than len(Skipped) when bounded
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("walk %s: %d unreadable directories skipped (%s): %v",
		e.Origin, max(e.count, len(e.Skipped)), strings.Join(e.Skipped[:min(len(e.Skipped), 3)], ", "), ErrIncomplete)
}

func (e *IncompleteError) Unwrap() error { return ErrIncomplete }
