package fusefs

import "time"

// Config is the fusefs module's slice of the root configuration.
type Config struct {
	Mountpoint  string
	AllowOther  bool
	ReadTimeout time.Duration
	// Uncached names the origins served directly, bypassing the cache
	// (`cache: false`: fast local disks).
	Uncached []string
	// NoPassthrough makes the daemon serve complete cached files itself
	// instead of handing them to the kernel (FUSE passthrough):
	// cache.passthrough: off, for every read checked by the daemon. It is
	// also the fallback taken when the kernel or privileges refuse.
	NoPassthrough bool
}
