package index

// How a walk of one origin ended, and the directories it skipped.

import (
	"errors"

	"github.com/musicfs/musicfs/modules/origins"
)

// outcome is how one origin's walk ended.
type outcome struct {
	// walked: the root was healthy and the walk reached its end, so the
	// origin is online and the files it did not see are gone, except under
	// skipped, or all of them when unknown.
	walked  bool
	unknown bool   // the walk skipped directories without naming them
	skipped dirSet // directories the walk could not read
	files   int    // files the walk listed
	health  health
}

// keeps reports whether an unseen record at rel stays after the walk.
func (o outcome) keeps(rel string) bool {
	return !o.walked || o.unknown || o.skipped.holds(rel)
}

// walkOutcome classifies the error of a walk that listed files files. An
// *origins.IncompleteError names the directories it skipped; a bare
// origins.ErrIncomplete does not, so every unseen record stays.
func walkOutcome(err error, files int) outcome {
	var ie *origins.IncompleteError
	switch {
	case err == nil:
		return outcome{walked: true, files: files}
	case errors.As(err, &ie):
		return outcome{walked: true, skipped: newDirSet(ie.Skipped), files: files}
	case errors.Is(err, origins.ErrIncomplete):
		return outcome{walked: true, unknown: true, files: files}
	}
	return outcome{files: files}
}

// dirSet is a set of origin-relative directories.
type dirSet map[string]struct{}

func newDirSet(dirs []string) dirSet {
	if len(dirs) == 0 {
		return nil
	}
	s := make(dirSet, len(dirs))
	for _, d := range dirs {
		s[d] = struct{}{}
	}
	return s
}

// holds reports whether rel is under one of the directories: one lookup
// per parent of rel.
func (s dirSet) holds(rel string) bool {
	if len(s) == 0 {
		return false
	}
	if _, ok := s["."]; ok {
		return true
	}
	for i := range len(rel) {
		if rel[i] == '/' {
			if _, ok := s[rel[:i]]; ok {
				return true
			}
		}
	}
	return false
}
