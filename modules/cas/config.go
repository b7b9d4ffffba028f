package cas

import (
	"errors"
	"time"
)

// Config tunes the store. The lead maps cache.dir, cache.scrub_rate and
// read_timeout onto it; the other fields keep their defaults in production.
type Config struct {
	// Dir is the cache directory (cache.dir). It is created with mode 0700,
	// and an existing one is chmod 0700: cached music is the user's data.
	Dir string `koanf:"dir"`
	// BlockSize is the unit of fetching and hashing. Zero means 1 MiB. A
	// partial track keeps the block size it was started with.
	BlockSize int64 `koanf:"block_size"`
	// ReadTimeout bounds every origin fetch: waiting for a slot, opening the
	// file and reading one block (read_timeout). Zero means 30 s.
	ReadTimeout time.Duration `koanf:"read_timeout"`
	// FetchConcurrency is how many origin reads may be in flight per origin.
	// Zero means 4.
	FetchConcurrency int `koanf:"fetch_concurrency"`
	// ScrubRate is the speed in bytes/s at which complete blobs are re-hashed
	// in the background (cache.scrub_rate). Zero turns the scrub off,
	// including the periodic rehash of open blobs (OpenScrubInterval).
	ScrubRate int64 `koanf:"scrub_rate"`
	// FreshFor is how long a whole-blob verification vouches for the blob
	// at the next open for passthrough; later opens hash it whole again.
	// Zero means 5 s.
	FreshFor time.Duration `koanf:"fresh_for"`
	// OpenCheckInterval is how often the files of open blobs are checked
	// for changes (any write moves their stamp); a changed one is verified
	// at once. Zero means 1 s.
	OpenCheckInterval time.Duration `koanf:"open_check_interval"`
	// VerifyReads checks every daemon read of a complete blob against the
	// hashes of the blocks it touches, not only the file's stamp
	// (cache.passthrough: off: every byte served checked by the daemon).
	VerifyReads bool `koanf:"verify_reads"`
	// OpenScrubInterval is how often an open blob is rehashed even when its
	// file did not change (damage below the filesystem), at ScrubRate.
	// Zero means 10 s.
	OpenScrubInterval time.Duration `koanf:"open_scrub_interval"`
}

// DefaultConfig returns the defaults; Dir has none.
func DefaultConfig() Config {
	return Config{
		BlockSize:         1 << 20,
		ReadTimeout:       30 * time.Second,
		FetchConcurrency:  4,
		FreshFor:          5 * time.Second,
		OpenCheckInterval: time.Second,
		OpenScrubInterval: 10 * time.Second,
	}
}

// Validate checks the configuration; errors name the full key.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("cache.dir: must be set")
	case c.BlockSize < 0:
		return errors.New("cache.block_size: must not be negative")
	case c.BlockSize > 64<<20:
		return errors.New("cache.block_size: must be at most 64 MiB")
	case c.ReadTimeout < 0:
		return errors.New("read_timeout: must not be negative")
	case c.FetchConcurrency < 0:
		return errors.New("cache.fetch_concurrency: must not be negative")
	case c.ScrubRate < 0:
		return errors.New("cache.scrub_rate: must not be negative")
	case c.FreshFor < 0:
		return errors.New("cache.fresh_for: must not be negative")
	case c.OpenCheckInterval < 0:
		return errors.New("cache.open_check_interval: must not be negative")
	case c.OpenScrubInterval < 0:
		return errors.New("cache.open_scrub_interval: must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.BlockSize == 0 {
		c.BlockSize = d.BlockSize
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = d.ReadTimeout
	}
	if c.FetchConcurrency == 0 {
		c.FetchConcurrency = d.FetchConcurrency
	}
	if c.FreshFor == 0 {
		c.FreshFor = d.FreshFor
	}
	if c.OpenCheckInterval == 0 {
		c.OpenCheckInterval = d.OpenCheckInterval
	}
	if c.OpenScrubInterval == 0 {
		c.OpenScrubInterval = d.OpenScrubInterval
	}
	return c
}
