package config

import (
	"fmt"
	"path/filepath"
)

// AbsPath returns "<key>: required" for an empty p and an error for a
// relative one: the check of every path key, worded the same everywhere.
func AbsPath(key, p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%s: required", key)
	case !filepath.IsAbs(p):
		return fmt.Errorf("%s: %q must be an absolute path", key, p)
	}
	return nil
}

// Positive returns "<key>: must be > 0" unless v > 0.
func Positive[N ~int | ~int64 | ~uint64](key string, v N) error {
	if v <= 0 {
		return fmt.Errorf("%s: must be > 0", key)
	}
	return nil
}
