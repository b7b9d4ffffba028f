package config

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/musicfs/musicfs/internal/bounded"
	"github.com/musicfs/musicfs/modules/cache"
)

var originNameRE = regexp.MustCompile(`^[a-z0-9_-]+$`)

// Validate reports every problem in c, each naming its full key
// ("origins[1].name: ..."), as an *Error wrapping ErrInvalid. It stats each
// origin path: one that is not a directory is a mistake and refused here.
// One that is missing, unreadable or does not answer is a runtime matter
// (a NAS not mounted yet at boot): the origin starts offline, with a
// warning, rather than failing a service that systemd would not restart.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	requireAbs := func(key, p string) {
		switch {
		case p == "":
			add("%s: required", key)
		case !filepath.IsAbs(p):
			add("%s: %q must be an absolute path", key, p)
		}
	}
	requireAbs("mountpoint", c.Mountpoint)
	requireAbs("state_dir", c.StateDir)
	requireAbs("cache.dir", c.Cache.Dir)

	if len(c.Origins) == 0 {
		add("origins: at least one origin is required")
	}
	seen := map[string]int{}
	for i, o := range c.Origins {
		key := fmt.Sprintf("origins[%d]", i)
		switch j, dup := seen[o.Name]; {
		case o.Name == "":
			add("%s.name: required", key)
		case !originNameRE.MatchString(o.Name):
			add("%s.name: %q must match [a-z0-9_-]+", key, o.Name)
		case dup:
			add("%s.name: duplicate %q (also origins[%d])", key, o.Name, j)
		default:
			seen[o.Name] = i
		}
		if o.Path == "" || !filepath.IsAbs(o.Path) {
			requireAbs(key+".path", o.Path)
		} else if err := checkDir(o.Path); err != nil {
			add("%s.path: %w", key, err)
		}
		if o.RescanInterval < 0 {
			add("%s.rescan_interval: must be >= 0", key)
		}
	}

	views := map[string]int{}
	for i, v := range c.Views {
		if err := v.Validate(); err != nil {
			// View.Validate names the sub-key: "name: ..." or "template: ...".
			add("views[%d].%w", i, err)
			continue
		}
		if j, dup := views[v.Name]; dup {
			add("views[%d].name: duplicate %q (also views[%d])", i, v.Name, j)
			continue
		}
		views[v.Name] = i
	}

	if c.Cache.MaxSize == 0 {
		add("cache.max_size: must be > 0")
	}
	if p := c.Cache.MinFree.Percent; p < 0 || p >= 100 || math.IsNaN(p) {
		add("cache.min_free: %v%% must be between 0%% and 100%%", p)
	}
	errs = append(errs, cache.ValidatePin(c.Cache.Pin))
	if c.ReadTimeout <= 0 {
		add("read_timeout: must be > 0")
	}
	if c.ShutdownTimeout <= 0 {
		add("shutdown_timeout: must be > 0")
	}
	errs = append(errs, c.Log.Validate(), c.Metrics.Validate())
	return invalid(errs...)
}

// statTimeout bounds the stat of an origin path: a hung network mount must
// not hang the config check.
const statTimeout = 2 * time.Second

// checkDir returns "<path>: not a directory" when p exists and is something
// else; a path it cannot stat in time is left to the origins module.
func checkDir(p string) error {
	fi, err := bounded.Call(context.Background(), statTimeout, nil, func() (os.FileInfo, error) { return os.Stat(p) }, nil)
	if err == nil && !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", p)
	}
	return nil
}
