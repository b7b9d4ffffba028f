package app_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/modules/config"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

// validConfig is a loaded default configuration with a real mountpoint and
// two real origin directories.
func validConfig(t *testing.T) *app.Config {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"mnt", "a", "b"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := app.Load([]string{
		"--mountpoint", filepath.Join(dir, "mnt"),
		"--origin", "a=" + filepath.Join(dir, "a"),
		"--origin", "b=" + filepath.Join(dir, "b"),
	}, []string{"HOME=/home/user", "PATH=/usr/bin"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	return cfg
}

func TestValidate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name   string
		mutate func(*app.Config)
		want   []string
	}{
		{"missing mountpoint", func(c *app.Config) { c.FS.Mountpoint = "" }, []string{"mountpoint: required"}},
		{"relative mountpoint", func(c *app.Config) { c.FS.Mountpoint = "mnt" }, []string{`mountpoint: "mnt" must be an absolute path`}},
		{"no origins", func(c *app.Config) { c.Origins.Origins = nil }, []string{"origins: at least one origin is required"}},
		{"origin name", func(c *app.Config) { c.Origins.Origins[1].Name = "Nas" }, []string{`origins[1].name: "Nas" must match [a-z0-9_-]+`}},
		{"origin name empty", func(c *app.Config) { c.Origins.Origins[0].Name = "" }, []string{"origins[0].name: required"}},
		{"duplicate origin", func(c *app.Config) { c.Origins.Origins[1].Name = "a" }, []string{`origins[1].name: duplicate "a"`}},
		{"origin path a file", func(c *app.Config) { c.Origins.Origins[1].Path = file }, []string{"origins[1].path: " + file + ": not a directory"}},
		{"origin path empty", func(c *app.Config) { c.Origins.Origins[0].Path = "" }, []string{"origins[0].path: required"}},
		{"origin path relative", func(c *app.Config) { c.Origins.Origins[0].Path = "music" }, []string{`origins[0].path: "music" must be an absolute path`}},
		{"rescan interval", func(c *app.Config) { c.Origins.Origins[0].RescanInterval = -1 }, []string{"origins[0].rescan_interval: must be >= 0"}},
		{"view name", func(c *app.Config) { c.Tree.Views[2].Name = "" }, []string{"views[2].name:"}},
		{"view reserved", func(c *app.Config) { c.Tree.Views[0].Name = "Origins" }, []string{`views[0].name: "Origins"`}},
		{"view template", func(c *app.Config) { c.Tree.Views[2].Template = "{album" }, []string{"views[2].template:"}},
		{"duplicate view", func(c *app.Config) { c.Tree.Views[3].Name = "Artists" }, []string{`views[3].name: duplicate "Artists"`}},
		{"state dir", func(c *app.Config) { c.Index.StateDir = "" }, []string{"state_dir: required"}},
		{"cache dir", func(c *app.Config) { c.Cache.Store.Dir = "rel" }, []string{"cache.dir: \"rel\" must be an absolute path"}},
		{"max size", func(c *app.Config) { c.Cache.Limits.MaxSize = 0 }, []string{"cache.max_size: must be > 0"}},
		{"min free", func(c *app.Config) { c.Cache.Limits.MinFree.Percent = 100 }, []string{"cache.min_free:"}},
		{"pin pattern", func(c *app.Config) { c.Cache.Limits.Pin = []string{"ok/**", "bad[", ""} }, []string{`cache.pin[1]: "bad[": invalid glob`, `cache.pin[2]: "": empty pattern`}},
		{"passthrough", func(c *app.Config) { c.Cache.Store.Passthrough = "on" }, []string{`cache.passthrough: "on" must be auto or off`}},
		{"read timeout", func(c *app.Config) { c.Origins.ReadTimeout = 0 }, []string{"read_timeout: must be > 0"}},
		{"shutdown timeout", func(c *app.Config) { c.ShutdownTimeout = -1 }, []string{"shutdown_timeout: must be > 0"}},
		{"log format", func(c *app.Config) { c.Log.Format = "text" }, []string{`log.format: "text" must be console or json`}},
		{"log level", func(c *app.Config) { c.Log.Level = "loud" }, []string{`log.level: "loud" must be one of`}},
		{"metrics listen", func(c *app.Config) { c.Metrics.Listen = "9478" }, []string{`metrics.listen: "9478" must be host:port`}},
		{"mountpoint parent missing", func(c *app.Config) { c.FS.Mountpoint = filepath.Join(missing, "music") }, []string{"mountpoint: parent directory " + missing + " does not exist"}},
		{"mountpoint a file", func(c *app.Config) { c.FS.Mountpoint = file }, []string{"mountpoint: " + file + " is not a directory"}},
		{"mountpoint under a file", func(c *app.Config) { c.FS.Mountpoint = filepath.Join(file, "m") }, []string{"mountpoint: " + file + " is not a directory"}},
		{"state dir a file", func(c *app.Config) { c.Index.StateDir = file }, []string{"state_dir: " + file + " is not a directory"}},
		{"cache dir under a file", func(c *app.Config) { c.Cache.Store.Dir = filepath.Join(file, "a", "b") }, []string{"cache.dir: " + filepath.Join(file, "a", "b") + " cannot be created: " + file + " is not a directory"}},
		{"cache dir in the mountpoint", func(c *app.Config) { c.Cache.Store.Dir = filepath.Join(c.FS.Mountpoint, "cache") }, []string{"mnt/cache is inside the mountpoint"}},
		{"state dir is the mountpoint", func(c *app.Config) { c.Index.StateDir = c.FS.Mountpoint }, []string{"mnt is inside the mountpoint"}},
		{"origin in the mountpoint", func(c *app.Config) { c.Origins.Origins[1].Path = filepath.Join(c.FS.Mountpoint, "b") }, []string{"mnt/b is inside the mountpoint"}},
		{"mountpoint in an origin", func(c *app.Config) { c.FS.Mountpoint = filepath.Join(c.Origins.Origins[0].Path, "m") }, []string{"a/m is inside origins[0].path"}},
		{"every problem at once", func(c *app.Config) {
			c.FS.Mountpoint, c.Origins.Origins, c.Log.Format, c.Origins.ReadTimeout = "", nil, "xml", 0
		}, []string{"mountpoint: required", "origins: at least one", "log.format:", "read_timeout:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := validConfig(t)
			tt.mutate(cfg)
			err := cfg.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			var ce *config.Error
			if !errors.As(err, &ce) || len(ce.Problems) != len(tt.want) {
				t.Errorf("want %d problems, got %v", len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestValidateAllowsEmptyViewsAndZeroRescan(t *testing.T) {
	cfg := validConfig(t)
	cfg.Tree.Views = []tree.View{}
	cfg.Origins.Origins = []origins.OriginConfig{{Name: "a", Path: cfg.Origins.Origins[0].Path}}
	cfg.Metrics.Listen = "127.0.0.1:9478"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

// A missing origin (a NAS not mounted yet at boot) is not a configuration
// error: the daemon starts and shows it offline.
func TestValidateAcceptsMissingOrigin(t *testing.T) {
	cfg := validConfig(t)
	cfg.Origins.Origins[0].Path = filepath.Join(t.TempDir(), "not-mounted-yet")
	if err := cfg.Validate(); err != nil {
		t.Fatalf("missing origin refused: %v", err)
	}
}

// A cache or state directory on a read-only filesystem cannot be used:
// refused here, not by a start that exits 1.
func TestValidateRefusesReadOnlyDirs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a read-only tmpfs needs root")
	}
	ro := t.TempDir()
	if err := unix.Mount("tmpfs", ro, "tmpfs", unix.MS_RDONLY, "size=1m"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(ro, unix.MNT_DETACH) })
	for _, tc := range []struct {
		key    string
		mutate func(*app.Config)
	}{
		{"cache.dir", func(c *app.Config) { c.Cache.Store.Dir = filepath.Join(ro, "cache") }},
		{"state_dir", func(c *app.Config) { c.Index.StateDir = ro }},
	} {
		cfg := validConfig(t)
		tc.mutate(cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.key+": ") || !strings.Contains(err.Error(), "read-only file system") {
			t.Errorf("%s on a read-only filesystem: %v", tc.key, err)
		}
	}
}
