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
	// in the background (cache.scrub_rate). Zero turns the scrub off.
	ScrubRate int64 `koanf:"scrub_rate"`
}

// DefaultConfig returns the defaults; Dir has none.
func DefaultConfig() Config {
	return Config{
		BlockSize:        1 << 20,
		ReadTimeout:      30 * time.Second,
		FetchConcurrency: 4,
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
	return c
}
