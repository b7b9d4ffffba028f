package fusefs

import "github.com/musicfs/musicfs/modules/config"

// Config is the fusefs module's slice of the root configuration: it owns
// mountpoint and allow_other; the janitor is handed the mountpoint.
type Config struct {
	Mountpoint string `koanf:"mountpoint,path"`
	AllowOther bool   `koanf:"allow_other"`
	// NoPassthrough makes the daemon serve complete cached files itself
	// instead of handing them to the kernel (FUSE passthrough):
	// cache.passthrough: off, for every read checked by the daemon. It is
	// also the fallback taken when the kernel or privileges refuse. Not a
	// key: cache.passthrough belongs to the store.
	NoPassthrough bool `koanf:"-"`
}

// Validate checks the configuration; errors name the full key.
func (c Config) Validate() error {
	return config.AbsPath("mountpoint", c.Mountpoint)
}
