package fusefs

import "time"

// Config is the fusefs module's slice of the root configuration.
type Config struct {
	Mountpoint  string
	AllowOther  bool
	ReadTimeout time.Duration
}
