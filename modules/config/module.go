package config

import (
	"go.uber.org/fx"

	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/fusefs"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/janitor"
	"github.com/musicfs/musicfs/modules/logging"
	"github.com/musicfs/musicfs/modules/metrics"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

// uncached names the origins with cache: false.
func (c *Config) uncached() []string {
	var names []string
	for _, o := range c.Origins {
		if !o.Cache {
			names = append(names, o.Name)
		}
	}
	return names
}

// Module hands each module its slice of the root *Config, which the caller
// loads and validates before fx starts and supplies with fx.Supply.
var Module = fx.Module("config",
	fx.Provide(
		func(c *Config) origins.Config {
			return origins.Config{Origins: c.Origins, ReadTimeout: c.ReadTimeout}
		},
		func(c *Config) tree.Config { return tree.Config{Views: c.Views, Tags: c.Tags} },
		func(c *Config) index.Config {
			return index.Config{StateDir: c.StateDir, ReadTimeout: c.ReadTimeout}
		},
		func(c *Config) logging.Config {
			l := c.Log
			l.StateDir = c.StateDir
			return l
		},
		func(c *Config) metrics.Config { return c.Metrics },
		func(c *Config) fusefs.Config {
			return fusefs.Config{Mountpoint: c.Mountpoint, AllowOther: c.AllowOther, ReadTimeout: c.ReadTimeout, Uncached: c.uncached(),
				NoPassthrough: c.Cache.Passthrough == PassthroughOff}
		},
		func(c *Config) cas.Config {
			return cas.Config{Dir: c.Cache.Dir, ReadTimeout: c.ReadTimeout, ScrubRate: int64(c.Cache.ScrubRate),
				VerifyReads: c.Cache.Passthrough == PassthroughOff}
		},
		func(c *Config) cache.Config {
			return cache.Config{Dir: c.Cache.Dir, MaxSize: int64(c.Cache.MaxSize), MinFreeBytes: int64(c.Cache.MinFree.Bytes),
				MinFreePercent: c.Cache.MinFree.Percent, Pin: c.Cache.Pin, Uncached: c.uncached()}
		},
		func(c *Config) janitor.Config {
			return janitor.Config{Mountpoint: c.Mountpoint, StatTimeout: JanitorStatTimeout}
		},
	),
)
