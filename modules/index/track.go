// Package index holds what MusicFS knows about each origin file: its identity
// (origin, path, size, mtime) and, for audio files, its tags.
package index

import "time"

// Track is one file of an origin, audio or not. Records are immutable once
// published: readers share them, and their lists, without locks.
type Track struct {
	Origin  string // origin name
	RelPath string // slash-separated path inside the origin
	Size    int64
	ModTime time.Time

	// Audio is true when the extension is a known audio format. Only audio
	// files appear in the tag views; every file appears under Origins/.
	Audio bool
	// Tagged is true when tags were read successfully; an audio file whose tags
	// could not be read is still listed, under Unknown Artist.
	Tagged bool
	// Untagged says why an audio file is not Tagged.
	Untagged Reason
	// Compilation: the file is flagged as part of a compilation (ID3 TCMP,
	// MP4 cpil, COMPILATION=1).
	Compilation bool

	Title        string
	Artists      []string // several values are several artists, in tag order
	AlbumArtists []string
	Album        string
	Genres       []string
	Year         int
	Track        int
	Disc         int
	DiscTotal    int
}

// Source is what the tree builds from. The index module provides it; tests
// can decorate it.
type Source interface {
	// Tracks returns the current records. The slice and the records in it must
	// not be modified by the caller.
	Tracks() []*Track
	// Updated is signalled (coalesced, never closed) whenever Tracks changes.
	Updated() <-chan struct{}
}
