package origins

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/musicfs/musicfs/modules/config"
)

// OriginConfig is one entry of the `origins:` list.
type OriginConfig struct {
	Name           string        `koanf:"name"`
	Path           string        `koanf:"path,path"`
	Watch          bool          `koanf:"watch"`
	RescanInterval time.Duration `koanf:"rescan_interval"`
	// Cache false serves the origin directly, bypassing the cache; fusefs
	// and the cache are told through Config.Uncached.
	Cache bool `koanf:"cache"`
}

// DefaultOrigin has the defaults of the fields an origin leaves out.
func DefaultOrigin() OriginConfig { return OriginConfig{Watch: true, Cache: true} }

// Config is the origins module's slice of the root configuration; it owns
// read_timeout, which the index and the store are handed.
type Config struct {
	Origins []OriginConfig `koanf:"origins"`
	// ReadTimeout bounds every origin read and health check. Zero means
	// DefaultReadTimeout.
	ReadTimeout time.Duration `koanf:"read_timeout"`
}

// DefaultReadTimeout is the default read_timeout.
const DefaultReadTimeout = 30 * time.Second

// DefaultConfig has no origins: at least one must be configured.
func DefaultConfig() Config { return Config{ReadTimeout: DefaultReadTimeout} }

func (c Config) withDefaults() Config {
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	return c
}

// Uncached names the origins with cache: false.
func (c Config) Uncached() []string {
	var names []string
	for _, o := range c.Origins {
		if !o.Cache {
			names = append(names, o.Name)
		}
	}
	return names
}

var nameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// Validate reports every problem, each naming its full key.
func (c Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if len(c.Origins) == 0 {
		add("origins: at least one origin is required")
	}
	seen := make(map[string]int, len(c.Origins))
	for i, o := range c.Origins {
		key := fmt.Sprintf("origins[%d]", i)
		switch j, dup := seen[o.Name]; {
		case o.Name == "":
			add("%s.name: required", key)
		case !nameRE.MatchString(o.Name):
			add("%s.name: %q must match [a-z0-9_-]+", key, o.Name)
		case dup:
			add("%s.name: duplicate %q (also origins[%d])", key, o.Name, j)
		default:
			seen[o.Name] = i
		}
		errs = append(errs, config.AbsPath(key+".path", o.Path))
		if o.RescanInterval < 0 {
			add("%s.rescan_interval: must be >= 0", key)
		}
	}
	errs = append(errs, config.Positive("read_timeout", c.ReadTimeout))
	return errors.Join(errs...)
}
