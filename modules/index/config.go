package index

import (
	"errors"
	"runtime"
	"time"

	"github.com/musicfs/musicfs/modules/config"
	"github.com/musicfs/musicfs/modules/origins"
)

// Config tunes the scanner. Zero fields take their defaults, so the module
// works without one (it is optional in Params). It owns state_dir, which
// logging is handed too; the other fields are not keys.
type Config struct {
	// Workers is how many files have their tags read at once.
	Workers int `koanf:"-"`
	// FileTimeout bounds reading one file's tags; a file that takes longer
	// is listed untagged.
	FileTimeout time.Duration `koanf:"-"`
	// StateDir holds the persisted index (index.db), created with mode 0700.
	// Empty keeps the index in memory only: every start scans from scratch.
	StateDir string `koanf:"state_dir,path"`
	// ReadTimeout bounds each health check of an origin root (mount point,
	// emptiness): the origins' read_timeout. Zero means
	// origins.DefaultReadTimeout.
	ReadTimeout time.Duration `koanf:"-"`
}

// DefaultConfig returns the defaults: max(4, 2×GOMAXPROCS) workers (tag
// reading waits on origin I/O more than on CPU) and 10 s per file.
func DefaultConfig() Config {
	return Config{
		Workers:     max(4, 2*runtime.GOMAXPROCS(0)),
		FileTimeout: 10 * time.Second,
		ReadTimeout: origins.DefaultReadTimeout,
	}
}

// Validate checks the configuration; errors name the full key.
func (c Config) Validate() error {
	switch {
	case c.Workers < 0:
		return errors.New("index.workers: must not be negative")
	case c.FileTimeout < 0:
		return errors.New("index.file_timeout: must not be negative")
	case c.StateDir != "":
		return config.AbsPath("state_dir", c.StateDir)
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
	if c.ReadTimeout == 0 {
		c.ReadTimeout = d.ReadTimeout
	}
	return c
}
