package config

import (
	"go.uber.org/fx"

	"github.com/musicfs/musicfs/modules/fusefs"
	"github.com/musicfs/musicfs/modules/janitor"
	"github.com/musicfs/musicfs/modules/logging"
	"github.com/musicfs/musicfs/modules/metrics"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

// Module hands each module its slice of the root *Config, which the caller
// loads and validates before fx starts and supplies with fx.Supply.
var Module = fx.Module("config",
	fx.Provide(
		func(c *Config) origins.Config {
			return origins.Config{Origins: c.Origins, ReadTimeout: c.ReadTimeout}
		},
		func(c *Config) tree.Config { return tree.Config{Views: c.Views} },
		func(c *Config) logging.Config {
			l := c.Log
			l.StateDir = c.StateDir
			return l
		},
		func(c *Config) metrics.Config { return c.Metrics },
		func(c *Config) fusefs.Config {
			return fusefs.Config{Mountpoint: c.Mountpoint, AllowOther: c.AllowOther, ReadTimeout: c.ReadTimeout}
		},
		func(c *Config) janitor.Config {
			return janitor.Config{Mountpoint: c.Mountpoint, StatTimeout: JanitorStatTimeout}
		},
	),
)
