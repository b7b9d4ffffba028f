package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/internal/bounded"
	"github.com/musicfs/musicfs/modules/config"
)

// Validate reports every problem in c, each naming its full key
// ("origins[1].name: ..."), as a *config.Error wrapping config.ErrInvalid.
// Each module checks its own keys; what is checked here is what spans
// modules, and it stats paths: an origin path that is not a directory is a
// mistake and refused here. One that is missing, unreadable or does not
// answer is a runtime matter (a NAS not mounted yet at boot): the origin
// starts offline, with a warning, rather than failing a service that
// systemd would not restart.
func (c *Config) Validate() error {
	errs := []error{
		c.FS.Validate(),
		c.Origins.Validate(),
		c.Tree.Validate(),
		c.Index.Validate(),
		c.Cache.Store.Validate(),
		c.Cache.Limits.Validate(),
		config.Positive("shutdown_timeout", c.ShutdownTimeout),
		c.Log.Validate(),
		c.Metrics.Validate(),
	}
	// The index alone may live in memory; the daemon keeps its state.
	if c.Index.StateDir == "" {
		errs = append(errs, errors.New("state_dir: required"))
	}
	if err := config.Invalid(errs...); err != nil {
		return err
	}
	return config.Invalid(c.checkLayout()...)
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

	mp := c.FS.Mountpoint
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
	for _, d := range []struct{ key, path string }{{"state_dir", c.Index.StateDir}, {"cache.dir", c.Cache.Store.Dir}} {
		if within(d.path, mp) {
			add("%s: %s is inside the mountpoint %s", d.key, d.path, mp)
		} else if err := checkCreatable(d.path); err != nil {
			add("%s: %w", d.key, err)
		}
	}
	for i, o := range c.Origins.Origins {
		if err := checkDir(o.Path); err != nil {
			add("origins[%d].path: %w", i, err)
		}
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

// statTimeout bounds each stat here: a hung network mount must
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
