package origins

import "errors"

var (
	// ErrTimeout is wrapped by errors of origin operations (open, stat, read,
	// directory listing, health check) that got no answer within the read
	// timeout.
	ErrTimeout = errors.New("origin did not answer in time")
	// ErrOffline is wrapped by errors of operations on an origin whose root is
	// missing or unreadable.
	ErrOffline = errors.New("origin offline")
	// ErrIncomplete is wrapped by the error of a Walk that visited everything
	// it could but had to skip unreadable directories. Callers must not read
	// the absence of a file from such a walk as a deletion.
	ErrIncomplete = errors.New("walk incomplete")
)
