package app

import (
	"time"

	"go.uber.org/fx"

	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/config"
	"github.com/musicfs/musicfs/modules/fusefs"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/janitor"
	"github.com/musicfs/musicfs/modules/logging"
	"github.com/musicfs/musicfs/modules/metrics"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

// Config is the whole configuration, the YAML schema documented in
// configs/musicfs.yaml. Each key has one owner, the module whose Config
// holds it; squashed sections put a module's keys at the level above.
type Config struct {
	FS      fusefs.Config  `koanf:",squash"` // mountpoint, allow_other
	Origins origins.Config `koanf:",squash"` // origins, read_timeout
	Tree    tree.Config    `koanf:",squash"` // views, tags
	Index   index.Config   `koanf:",squash"` // state_dir
	Cache   CacheConfig    `koanf:"cache"`
	// ShutdownTimeout bounds a clean stop; the daemon's own key.
	ShutdownTimeout time.Duration  `koanf:"shutdown_timeout"`
	Log             logging.Config `koanf:"log"`
	Metrics         metrics.Config `koanf:"metrics"`
}

// CacheConfig is the `cache:` section, shared by the store and the cache.
type CacheConfig struct {
	Store  cas.Config   `koanf:",squash"` // dir, scrub_rate, passthrough
	Limits cache.Config `koanf:",squash"` // max_size, min_free, pin
}

// DefaultShutdownTimeout is the default shutdown_timeout.
const DefaultShutdownTimeout = 10 * time.Second

// DefaultConfig is every module's defaults, with the directories the
// environment calls for.
func DefaultConfig(env config.Env) Config {
	c := Config{
		Origins:         origins.DefaultConfig(),
		Tree:            tree.DefaultConfig(),
		Index:           index.Config{StateDir: env.StateDir()},
		Cache:           CacheConfig{Store: cas.DefaultConfig(), Limits: cache.DefaultConfig()},
		ShutdownTimeout: DefaultShutdownTimeout,
		Log:             logging.DefaultConfig(),
		Metrics:         metrics.DefaultConfig(),
	}
	c.Cache.Store.Dir = env.CacheDir()
	return c
}

// Load reads the configuration (see config.Load); call Validate next.
func Load(args, environ []string) (*Config, error) {
	return config.Load(args, environ, config.Schema[Config]{
		Defaults:     DefaultConfig,
		ListDefaults: map[string]any{"origins": origins.DefaultOrigin()},
	})
}

// configs hands each module its Config. A key several modules need is
// read from its owner's section here, so that its default and validation
// exist once.
var configs = fx.Provide(
	func(c *Config) fusefs.Config {
		f := c.FS
		f.NoPassthrough = c.Cache.Store.Passthrough == cas.PassthroughOff
		return f
	},
	func(c *Config) janitor.Config {
		j := janitor.DefaultConfig()
		j.Mountpoint = c.FS.Mountpoint
		return j
	},
	func(c *Config) origins.Config { return c.Origins },
	func(c *Config) tree.Config { return c.Tree },
	func(c *Config) index.Config {
		ix := c.Index
		ix.ReadTimeout = c.Origins.ReadTimeout
		return ix
	},
	func(c *Config) logging.Config {
		l := c.Log
		l.StateDir = c.Index.StateDir
		return l
	},
	func(c *Config) metrics.Config { return c.Metrics },
	func(c *Config) cas.Config {
		s := c.Cache.Store
		s.ReadTimeout = c.Origins.ReadTimeout
		return s
	},
	func(c *Config) cache.Config {
		l := c.Cache.Limits
		l.Dir = c.Cache.Store.Dir
		l.Uncached = c.Origins.Uncached()
		return l
	},
)
