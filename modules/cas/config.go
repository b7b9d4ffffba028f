package cas

import (
	"errors"
	"fmt"
	"time"

	"github.com/musicfs/musicfs/modules/config"
	"github.com/musicfs/musicfs/modules/origins"
)

// Config tunes the store. It owns cache.dir (the cache is handed it),
// cache.scrub_rate and cache.passthrough (fusefs is handed it); the other
// fields are not keys and keep their defaults in production.
type Config struct {
	// Dir is the cache directory (cache.dir). It is created with mode 0700,
	// and an existing one is chmod 0700: cached music is the user's data.
	Dir string `koanf:"dir,path"`
	// ScrubRate is the speed in bytes/s at which complete blobs are re-hashed
	// in the background (cache.scrub_rate). Zero turns the scrub off,
	// including the periodic rehash of open blobs (OpenScrubInterval).
	ScrubRate config.Size `koanf:"scrub_rate"`
	// Passthrough is cache.passthrough: auto (complete cached files are
	// read by the kernel through FUSE passthrough where it can) or off (the
	// daemon serves every read and checks it: VerifyReads).
	Passthrough string `koanf:"passthrough"`

	// BlockSize is the unit of fetching and hashing. Zero means 1 MiB. A
	// partial track keeps the block size it was started with.
	BlockSize int64 `koanf:"-"`
	// ReadTimeout bounds every origin fetch: waiting for a slot, opening the
	// file and reading one block: the origins' read_timeout. Zero means
	// origins.DefaultReadTimeout.
	ReadTimeout time.Duration `koanf:"-"`
	// FetchConcurrency is how many origin reads may be in flight per origin.
	// Zero means 4.
	FetchConcurrency int `koanf:"-"`
	// FreshFor is how long a whole-blob verification vouches for the blob
	// at the next open for passthrough; later opens hash it whole again.
	// Zero means 5 s.
	FreshFor time.Duration `koanf:"-"`
	// OpenCheckInterval is how often the files of open blobs are checked
	// for changes (any write moves their stamp); a changed one is verified
	// at once. Zero means 1 s.
	OpenCheckInterval time.Duration `koanf:"-"`
	// VerifyReads checks every daemon read of a complete blob against the
	// hashes of the blocks it touches, not only the file's stamp, so that
	// every byte served is checked by the daemon. Passthrough off sets it.
	VerifyReads bool `koanf:"-"`
	// OpenScrubInterval is how often an open blob is rehashed even when its
	// file did not change (damage below the filesystem), at ScrubRate.
	// Zero means 10 s.
	OpenScrubInterval time.Duration `koanf:"-"`
}

// Values of cache.passthrough.
const (
	PassthroughAuto = "auto"
	PassthroughOff  = "off"
)

// DefaultScrubRate re-reads a full 20 GiB cache in about 20 minutes
// without competing with playback.
const DefaultScrubRate = 16 * config.MiB

// DefaultConfig returns the defaults; Dir has none.
func DefaultConfig() Config {
	return Config{
		ScrubRate:         DefaultScrubRate,
		Passthrough:       PassthroughAuto,
		BlockSize:         1 << 20,
		ReadTimeout:       origins.DefaultReadTimeout,
		FetchConcurrency:  4,
		FreshFor:          5 * time.Second,
		OpenCheckInterval: time.Second,
		OpenScrubInterval: 10 * time.Second,
	}
}

// Validate checks the configuration; errors name the full key.
func (c Config) Validate() error {
	var errs []error
	errs = append(errs, config.AbsPath("cache.dir", c.Dir))
	if c.Passthrough != PassthroughAuto && c.Passthrough != PassthroughOff {
		errs = append(errs, fmt.Errorf("cache.passthrough: %q must be auto or off", c.Passthrough))
	}
	switch {
	case c.BlockSize < 0:
		errs = append(errs, errors.New("cas: BlockSize must not be negative"))
	case c.BlockSize > 64<<20:
		errs = append(errs, errors.New("cas: BlockSize must be at most 64 MiB"))
	case c.BlockSize != 0 && !validBlockSize(c.BlockSize):
		errs = append(errs, fmt.Errorf("cas: BlockSize %d must be a power of two of at least 1 KiB", c.BlockSize))
	}
	for _, f := range []struct {
		name string
		neg  bool
	}{
		{"FetchConcurrency", c.FetchConcurrency < 0},
		{"FreshFor", c.FreshFor < 0},
		{"OpenCheckInterval", c.OpenCheckInterval < 0},
		{"OpenScrubInterval", c.OpenScrubInterval < 0},
	} {
		if f.neg {
			errs = append(errs, fmt.Errorf("cas: %s must not be negative", f.name))
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Passthrough == "" {
		c.Passthrough = d.Passthrough
	}
	c.VerifyReads = c.VerifyReads || c.Passthrough == PassthroughOff
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
