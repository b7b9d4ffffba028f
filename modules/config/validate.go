package config

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

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

	errs = append(errs, c.Tags.Validate())

	if c.Cache.MaxSize == 0 {
		add("cache.max_size: must be > 0")
	}
	if p := c.Cache.MinFree.Percent; p < 0 || p >= 100 || math.IsNaN(p) {
		add("cache.min_free: %v%% must be between 0%% and 100%%", p)
	}
	if p := c.Cache.Passthrough; p != PassthroughAuto && p != PassthroughOff {
		add("cache.passthrough: %q must be auto or off", p)
	}
	errs = append(errs, cache.ValidatePin(c.Cache.Pin))
	if c.ReadTimeout <= 0 {
		add("read_timeout: must be > 0")
	}
	if c.ShutdownTimeout <= 0 {
		add("shutdown_timeout: must be > 0")
	}
	errs = append(errs, c.Log.Validate(), c.Metrics.Validate())
	if err := invalid(errs...); err != nil {
		return err
	}
	return invalid(c.checkLayout()...)
}

// checkLayout refuses directories the daemon could not use, which a start
// would otherwise only find out in a module (and exit 1, which systemd
// restarts forever): a mountpoint whose parent is missing or that is not a
// directory, a cache or state directory that cannot be created, and
// directories nested in a way that makes the daemon read its own mount.
// It runs once the paths are known to be well-formed.
func (c *Config) checkLayout() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	mp := c.Mountpoint
	parent := filepath.Dir(mp)
	switch fi, err := statBounded(parent); {
	case errors.Is(err, fs.ErrNotExist):
		add("mountpoint: parent directory %s does not exist", parent)
	case err == nil && !fi.IsDir():
		add("mountpoint: %s is not a directory", parent)
	case err == nil:
		// A dead or hung FUSE mount there is the janitor's to handle: only
		// an answer saying it is something else is a mistake.
		if fi, err := statBounded(mp); err == nil && !fi.IsDir() {
			add("mountpoint: %s is not a directory", mp)
		}
	}
	for _, d := range []struct{ key, path string }{{"state_dir", c.StateDir}, {"cache.dir", c.Cache.Dir}} {
		if within(d.path, mp) {
			add("%s: %s is inside the mountpoint %s", d.key, d.path, mp)
		} else if err := checkCreatable(d.path); err != nil {
			add("%s: %w", d.key, err)
		}
	}
	for i, o := range c.Origins {
		switch {
		case within(o.Path, mp):
			add("origins[%d].path: %s is inside the mountpoint %s", i, o.Path, mp)
		case within(mp, o.Path):
			add("mountpoint: %s is inside origins[%d].path %s: scanning the origin would read the mount itself", mp, i, o.Path)
		}
	}
	return errs
}

// within reports whether the clean absolute path p is dir or under it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// checkCreatable returns an error when p exists and is not a directory, or
// when its nearest existing ancestor is not one (MkdirAll would fail), or
// is on a read-only filesystem. What cannot be stat-ed in time, or for
// another reason, is left to the start.
func checkCreatable(p string) error {
	for d := p; ; d = filepath.Dir(d) {
		fi, err := statBounded(d)
		switch {
		case err == nil && fi.IsDir():
			// The daemon writes there (or creates p there). Permissions are
			// not judged: check-config may run as another user.
			if err := unix.Access(d, unix.W_OK); errors.Is(err, unix.EROFS) {
				return fmt.Errorf("%s cannot be written: %s: %w", p, d, err)
			}
			return nil
		case err == nil && d == p:
			return fmt.Errorf("%s is not a directory", p)
		case err == nil:
			return fmt.Errorf("%s cannot be created: %s is not a directory", p, d)
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return nil
		case d == filepath.Dir(d):
			return nil
		}
	}
}

func statBounded(p string) (os.FileInfo, error) {
	return bounded.Call(context.Background(), statTimeout, nil, func() (os.FileInfo, error) { return os.Stat(p) }, nil)
}

// statTimeout bounds the stat of an origin path: a hung network mount must
// not hang the config check.
const statTimeout = 2 * time.Second

// checkDir returns "<path>: not a directory" when p exists and is something
// else; a path it cannot stat in time is left to the origins module.
func checkDir(p string) error {
	fi, err := statBounded(p)
	if err == nil && !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", p)
	}
	return nil
}
