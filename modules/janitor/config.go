package janitor

import (
	"errors"
	"time"
)

// DefaultStatTimeout is how long a stat of an existing FUSE mount may take
// before the mount is declared dead.
const DefaultStatTimeout = 2 * time.Second

// Config is the janitor module's slice of the root configuration.
type Config struct {
	Mountpoint string
	// StatTimeout is how long a stat of an existing FUSE mount may take before
	// the mount is considered dead. Zero means DefaultStatTimeout.
	StatTimeout time.Duration
}

// DefaultConfig has the defaults; Mountpoint has none.
func DefaultConfig() Config {
	return Config{StatTimeout: DefaultStatTimeout}
}

// Validate names the offending key.
func (c Config) Validate() error {
	if c.Mountpoint == "" {
		return errors.New("mountpoint: required")
	}
	if c.StatTimeout < 0 {
		return errors.New("janitor stat timeout: must not be negative")
	}
	return nil
}
