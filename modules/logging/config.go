package logging

import (
	"errors"
	"fmt"
	"slices"
)

// Config is the `log:` section plus where crash output goes.
type Config struct {
	Level  string `koanf:"level"`  // debug | info | warn | error
	Format string `koanf:"format"` // console | json
	// StateDir holds crash.log (runtime/debug.SetCrashOutput); from state_dir.
	StateDir string `koanf:"-"`
}

// Levels and Formats are the values Config accepts.
var (
	Levels  = []string{"debug", "info", "warn", "error"}
	Formats = []string{"console", "json"}
)

// DefaultConfig is info-level console output.
func DefaultConfig() Config {
	return Config{Level: "info", Format: "console"}
}

// Validate reports every problem, each naming its full key.
func (c Config) Validate() error {
	var errs []error
	if !slices.Contains(Levels, c.Level) {
		errs = append(errs, fmt.Errorf("log.level: %q must be one of debug, info, warn, error", c.Level))
	}
	if !slices.Contains(Formats, c.Format) {
		errs = append(errs, fmt.Errorf("log.format: %q must be console or json", c.Format))
	}
	return errors.Join(errs...)
}
