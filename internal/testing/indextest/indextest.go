// Package indextest has an index.Source whose tracks a test sets, for
// testing what builds on the index (tree, cache, prefetch, fusefs) without
// scanning anything.
package indextest

import (
	"sync"

	"github.com/musicfs/musicfs/modules/index"
)

// Source is an index.Source with a settable track list. It counts Tracks
// calls and can make chosen ones panic, as a buggy index would.
type Source struct {
	mu      sync.Mutex // guards tracks, calls, panicOn and updated
	tracks  []*index.Track
	calls   int
	panicOn map[int]bool
	updated chan struct{}
}

var _ index.Source = (*Source)(nil)

// NewSource returns a Source holding tracks.
func NewSource(tracks ...*index.Track) *Source {
	return &Source{tracks: tracks, updated: make(chan struct{}, 1), panicOn: map[int]bool{}}
}

// Tracks returns the current list, or panics if this call was chosen by
// PanicOn.
func (s *Source) Tracks() []*index.Track {
	s.mu.Lock()
	s.calls++
	boom := s.panicOn[s.calls]
	tracks := s.tracks
	s.mu.Unlock()
	if boom {
		panic("index exploded")
	}
	return tracks
}

// Updated is signalled by Set.
func (s *Source) Updated() <-chan struct{} { return s.updated }

// Set replaces the track list and signals Updated.
func (s *Source) Set(tracks ...*index.Track) {
	s.mu.Lock()
	s.tracks = tracks
	s.mu.Unlock()
	select {
	case s.updated <- struct{}{}:
	default:
	}
}

// Calls is how many times Tracks was called.
func (s *Source) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// PanicOn makes the n-th call of Tracks (counting from 1) panic.
func (s *Source) PanicOn(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.panicOn[n] = true
}
