package config

import (
	"errors"
	"strings"
)

// ErrInvalid is wrapped by every error Load and Validate return, including
// usage errors such as an unknown flag, so that the caller can exit with
// code 2 for a bad configuration and 1 for anything else.
var ErrInvalid = errors.New("invalid configuration")

// Error lists every problem found; each problem names its full key, e.g.
// "origins[1].name: ...". It wraps ErrInvalid and each problem.
type Error struct {
	Problems []error
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return ErrInvalid.Error() + ": " + e.Problems[0].Error()
	}
	var b strings.Builder
	b.WriteString(ErrInvalid.Error())
	b.WriteString(":")
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	return b.String()
}

// Unwrap makes errors.Is(err, ErrInvalid) true and exposes the problems.
func (e *Error) Unwrap() []error {
	return append([]error{ErrInvalid}, e.Problems...)
}

// Invalid returns an *Error for problems, flattening joined errors so each
// problem stands on its own line, or nil when there are none (nil problems
// are skipped).
func Invalid(problems ...error) error {
	var flat []error
	var add func(error)
	add = func(err error) {
		if err == nil {
			return
		}
		if e, ok := err.(*Error); ok {
			flat = append(flat, e.Problems...)
			return
		}
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				add(e)
			}
			return
		}
		flat = append(flat, err)
	}
	for _, p := range problems {
		add(p)
	}
	if len(flat) == 0 {
		return nil
	}
	return &Error{Problems: flat}
}

// usageError is a command-line mistake, or a request for help (which
// wraps flag.ErrHelp but not ErrInvalid); its text includes the usage.
type usageError struct {
	err   error
	usage string // what the flag package printed, or the usage
	help  bool
}

func (e *usageError) Error() string {
	if e.help || strings.Contains(e.usage, e.err.Error()) {
		return e.usage
	}
	return e.err.Error() + "\n" + e.usage
}

func (e *usageError) Unwrap() []error {
	if e.help {
		return []error{e.err}
	}
	return []error{ErrInvalid, e.err}
}
