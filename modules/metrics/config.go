package metrics

import (
	"fmt"
	"net"
)

// Config is the `metrics:` section.
type Config struct {
	// Listen is the address of the /metrics HTTP listener; empty disables it.
	Listen string `koanf:"listen"`
}

// DefaultConfig has no listener.
func DefaultConfig() Config { return Config{} }

// Validate checks that Listen, when set, is a host:port.
func (c Config) Validate() error {
	if c.Listen == "" {
		return nil
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("metrics.listen: %q must be host:port, e.g. 127.0.0.1:9478", c.Listen)
	}
	return nil
}
