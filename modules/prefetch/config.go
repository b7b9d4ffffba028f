package prefetch

import (
	"fmt"
	"time"
)

// Defaults for the zero fields of Config.
const (
	DefaultWindow     = 4 << 20
	DefaultHead       = 2 << 20
	DefaultNextTracks = 2
	DefaultWorkers    = 2
	DefaultChunk      = 1 << 20
	DefaultQueue      = 64
	DefaultPlayAfter  = 2 << 20

	DefaultFullBackoff          = 10 * time.Second
	DefaultPassthroughPlayAfter = 2 * time.Second
)

// Config tunes prefetching; it has no keys. A zero field takes its default.
type Config struct {
	// Window is how far read-ahead keeps fetched beyond the last read of
	// an open track, in bytes; < 0 turns read-ahead off.
	Window int64
	// Head is how many bytes of each following track are fetched when a
	// track is opened.
	Head int64
	// NextTracks is how many following tracks of the album get their head
	// fetched; < 0 turns that off.
	NextTracks int
	// Workers bounds the prefetch fetches in flight overall.
	Workers int
	// Chunk is the size and alignment of read-ahead requests; best set to
	// the cache's block size.
	Chunk int64
	// Queue is how many requests may wait for a worker; when it is full the
	// oldest is dropped (prefetch is best-effort; newer reads matter more).
	Queue int
	// PlayAfter is how many bytes an open file must be read in sequence
	// before it counts as played: only then do read-ahead and the next
	// tracks' heads start. Tag readers and library scanners (beets,
	// Navidrome) open every file and read a little of each, which must not
	// fill the cache. < 0 starts both at once.
	PlayAfter int64
	// FullBackoff is how long no prefetch starts after one found the
	// cache full (it read the origin for nothing: the data could not be
	// stored, and the player reads it again). < 0 turns the pause off; the
	// session that met the full cache prefetches no more regardless.
	FullBackoff time.Duration
	// PassthroughPlayAfter is how long a file the kernel serves (FUSE
	// passthrough, so no reads are seen) must stay open to count as
	// played: a scanner opens and closes at once, a player keeps the file
	// open. < 0 counts it as played at once.
	PassthroughPlayAfter time.Duration
}

// DefaultConfig returns the configuration used when nothing is configured.
func DefaultConfig() Config {
	return Config{Window: DefaultWindow, Head: DefaultHead, NextTracks: DefaultNextTracks,
		Workers: DefaultWorkers, Chunk: DefaultChunk, Queue: DefaultQueue, PlayAfter: DefaultPlayAfter,
		FullBackoff: DefaultFullBackoff, PassthroughPlayAfter: DefaultPassthroughPlayAfter}
}

// Validate checks the fields that have no meaning when negative. Errors
// name the full key.
func (c Config) Validate() error {
	for _, f := range []struct {
		key string
		v   int64
	}{{"head", c.Head}, {"workers", int64(c.Workers)}, {"chunk", c.Chunk}, {"queue", int64(c.Queue)}} {
		if f.v < 0 {
			return fmt.Errorf("prefetch.%s: must be >= 0", f.key)
		}
	}
	return nil
}

// withDefaults fills the zero fields.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Window == 0 {
		c.Window = d.Window
	}
	if c.Head == 0 {
		c.Head = d.Head
	}
	if c.NextTracks == 0 {
		c.NextTracks = d.NextTracks
	}
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.Chunk == 0 {
		c.Chunk = d.Chunk
	}
	if c.Queue == 0 {
		c.Queue = d.Queue
	}
	if c.PlayAfter == 0 {
		c.PlayAfter = d.PlayAfter
	}
	if c.FullBackoff == 0 {
		c.FullBackoff = d.FullBackoff
	}
	if c.PassthroughPlayAfter == 0 {
		c.PassthroughPlayAfter = d.PassthroughPlayAfter
	}
	return c
}
