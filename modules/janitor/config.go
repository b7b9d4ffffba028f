package janitor

import "time"

// Config is the janitor module's slice of the root configuration.
type Config struct {
	Mountpoint string
	// StatTimeout is how long a stat of an existing FUSE mount may take before
	// the mount is considered dead.
	StatTimeout time.Duration
}
