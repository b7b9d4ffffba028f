package origins

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

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
	// ReadTimeout bounds every origin read and health check. Zero means
	// DefaultReadTimeout.
	ReadTimeout time.Duration
}

// DefaultReadTimeout is used when Config.ReadTimeout is zero.
const DefaultReadTimeout = 30 * time.Second

var nameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// Validate checks the configuration; errors name the full configuration key.
func (c Config) Validate() error {
	if len(c.Origins) == 0 {
		return errors.New("origins: at least one origin is required")
	}
	seen := make(map[string]int, len(c.Origins))
	for i, o := range c.Origins {
		key := fmt.Sprintf("origins[%d]", i)
		if !nameRE.MatchString(o.Name) {
			return fmt.Errorf("%s.name: %q must match [a-z0-9_-]+", key, o.Name)
		}
		if j, dup := seen[o.Name]; dup {
			return fmt.Errorf("%s.name: %q is already used by origins[%d]", key, o.Name, j)
		}
		seen[o.Name] = i
		if o.Path == "" {
			return fmt.Errorf("%s.path: must be set", key)
		}
		if o.RescanInterval < 0 {
			return fmt.Errorf("%s.rescan_interval: must not be negative", key)
		}
	}
	if c.ReadTimeout < 0 {
		return errors.New("read_timeout: must not be negative")
	}
	return nil
}
