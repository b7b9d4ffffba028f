package origins

import "time"

// OriginConfig is one entry of the `origins:` list.
type OriginConfig struct {
	Name           string        `koanf:"name"`
	Path           string        `koanf:"path"`
	Watch          bool          `koanf:"watch"`
	RescanInterval time.Duration `koanf:"rescan_interval"`
	Cache          bool          `koanf:"cache"`
}

// Config is the origins module's slice of the root configuration.
type Config struct {
	Origins []OriginConfig
	// ReadTimeout bounds every origin read and health check.
	ReadTimeout time.Duration
}
