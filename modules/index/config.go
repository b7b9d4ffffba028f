package index

import (
	"errors"
	"runtime"
	"time"
)

// Config tunes the scanner. Zero fields take their defaults, so the module
// works without one (it is optional in Params).
type Config struct {
	// Workers is how many files have their tags read at once.
	Workers int `koanf:"workers"`
	// FileTimeout bounds reading one file's tags; a file that takes longer
	// is listed untagged.
	FileTimeout time.Duration `koanf:"file_timeout"`
}

// DefaultConfig returns the defaults: max(4, 2×GOMAXPROCS) workers (tag
// reading waits on origin I/O more than on CPU) and 10 s per file.
func DefaultConfig() Config {
	return Config{
		Workers:     max(4, 2*runtime.GOMAXPROCS(0)),
		FileTimeout: 10 * time.Second,
	}
}

// Validate checks the configuration; errors name the full key.
func (c Config) Validate() error {
	if c.Workers < 0 {
		return errors.New("index.workers: must not be negative")
	}
	if c.FileTimeout < 0 {
		return errors.New("index.file_timeout: must not be negative")
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	if c.Workers == 0 {
		c.Workers = d.Workers
	}
	if c.FileTimeout == 0 {
		c.FileTimeout = d.FileTimeout
	}
	return c
}
