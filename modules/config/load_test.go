package config_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/config"
	"github.com/musicfs/musicfs/modules/logging"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

// writeConfig writes a YAML file in a temp dir and returns its path.
func writeConfig(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "musicfs.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// baseEnv is an environment with a HOME and nothing from MUSICFS_.
func baseEnv(extra ...string) []string {
	return append([]string{"HOME=/home/user", "PATH=/usr/bin"}, extra...)
}

func mustLoad(t *testing.T, args, environ []string) *app.Config {
	t.Helper()
	cfg, err := app.Load(args, environ)
	if err != nil {
		t.Fatalf("Load(%q): %v", args, err)
	}
	return cfg
}

func TestLoadDefaults(t *testing.T) {
	cfg := mustLoad(t, nil, baseEnv())
	env := config.Env{EUID: os.Geteuid(), Vars: map[string]string{"HOME": "/home/user"}}
	want := &app.Config{
		Origins:         origins.Config{Origins: []origins.OriginConfig{}, ReadTimeout: 30 * time.Second},
		Tree:            tree.Config{Views: tree.DefaultViews(), Tags: tree.DefaultConfig().Tags},
		ShutdownTimeout: 10 * time.Second,
		Log:             logging.Config{Level: "info", Format: "console"},
	}
	want.Index.StateDir = env.StateDir()
	want.Cache.Store = cas.Config{Dir: env.CacheDir(), ScrubRate: 16 * config.MiB, Passthrough: cas.PassthroughAuto}
	want.Cache.Limits = cache.Config{MaxSize: 20 * config.GiB, MinFree: config.MinFree{Percent: 5}, Pin: []string{}}
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestDefaultDirs(t *testing.T) {
	tests := []struct {
		name              string
		euid              int
		env               map[string]string
		wantState, wantCa string
	}{
		{"root", 0, map[string]string{"HOME": "/root"}, "/var/lib/musicfs", "/var/cache/musicfs"},
		{"user", 1000, map[string]string{"HOME": "/home/u"}, "/home/u/.local/state/musicfs", "/home/u/.cache/musicfs"},
		{"xdg", 1000, map[string]string{"HOME": "/home/u", "XDG_STATE_HOME": "/s", "XDG_CACHE_HOME": "/c"}, "/s/musicfs", "/c/musicfs"},
		{"relative xdg ignored", 1000, map[string]string{"HOME": "/home/u", "XDG_STATE_HOME": "s"}, "/home/u/.local/state/musicfs", "/home/u/.cache/musicfs"},
		{"no home", 1000, map[string]string{}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := config.Env{EUID: tt.euid, Vars: tt.env}
			s, c := env.StateDir(), env.CacheDir()
			if s != tt.wantState || c != tt.wantCa {
				t.Fatalf("StateDir, CacheDir = %q, %q; want %q, %q", s, c, tt.wantState, tt.wantCa)
			}
		})
	}
}

func TestLoadPrecedence(t *testing.T) {
	file := writeConfig(t, `
mountpoint: /from/file
state_dir: /file/state
cache: {dir: /file/cache, max_size: 1GiB}
read_timeout: 5s
log: {level: warn, format: json}
metrics: {listen: "127.0.0.1:1"}
`)
	tests := []struct {
		name  string
		args  []string
		env   []string
		check func(*app.Config) string
	}{
		{"file over defaults", []string{"--config", file}, nil, func(c *app.Config) string {
			return c.FS.Mountpoint + " " + c.Log.Level + " " + c.Log.Format + " " + c.Origins.ReadTimeout.String() + " " + c.Cache.Limits.MaxSize.String() + " " + c.Metrics.Listen + " " + c.ShutdownTimeout.String()
		}},
		{"env over file", []string{"--config", file}, []string{
			"MUSICFS_MOUNTPOINT=/from/env", "MUSICFS_LOG__LEVEL=debug", "MUSICFS_READ_TIMEOUT=7s", "MUSICFS_CACHE__MAX_SIZE=2GiB",
		}, func(c *app.Config) string {
			return c.FS.Mountpoint + " " + c.Log.Level + " " + c.Log.Format + " " + c.Origins.ReadTimeout.String() + " " + c.Cache.Limits.MaxSize.String() + " " + c.Metrics.Listen + " " + c.ShutdownTimeout.String()
		}},
		{"flags over env", []string{"--config", file, "--mountpoint", "/from/flag", "--log-level", "error", "--cache-dir", "/flag/cache", "--state-dir", "/flag/state", "--allow-other"}, []string{
			"MUSICFS_MOUNTPOINT=/from/env", "MUSICFS_LOG__LEVEL=debug", "MUSICFS_CACHE__DIR=/env/cache", "MUSICFS_ALLOW_OTHER=false",
		}, func(c *app.Config) string {
			return c.FS.Mountpoint + " " + c.Log.Level + " " + c.Cache.Store.Dir + " " + c.Index.StateDir + " " + boolString(c.FS.AllowOther)
		}},
		{"env without file", nil, []string{"MUSICFS_ALLOW_OTHER=true", "MUSICFS_METRICS__LISTEN=:9478", "MUSICFS_CACHE__MIN_FREE=1GiB", "MUSICFS_CACHE__PIN=Artists/X/**"}, func(c *app.Config) string {
			return boolString(c.FS.AllowOther) + " " + c.Metrics.Listen + " " + c.Cache.Limits.MinFree.String() + " " + strings.Join(c.Cache.Limits.Pin, ",")
		}},
	}
	want := []string{
		"/from/file warn json 5s 1GiB 127.0.0.1:1 10s",
		"/from/env debug json 7s 2GiB 127.0.0.1:1 10s",
		"/from/flag error /flag/cache /flag/state true",
		"true :9478 1GiB Artists/X/**",
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.args, baseEnv(tt.env...))
			if got := tt.check(cfg); got != want[i] {
				t.Fatalf("got  %q\nwant %q", got, want[i])
			}
		})
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestLoadEmptySectionKeepsDefaults(t *testing.T) {
	file := writeConfig(t, "cache:\nlog:\n  level: debug\n  format:\nviews:\n")
	cfg := mustLoad(t, []string{"--config", file}, baseEnv())
	if cfg.Cache.Limits.MaxSize != 20*config.GiB || cfg.Log.Format != "console" || cfg.Log.Level != "debug" || len(cfg.Tree.Views) != 4 {
		t.Fatalf("empty sections should keep defaults, got %+v", cfg)
	}
}

func TestLoadOrigins(t *testing.T) {
	cwd, _ := os.Getwd()
	file := writeConfig(t, `
origins:
  - {name: nas, path: /mnt/nas}
  - {name: local, path: /srv/local, watch: false, cache: false, rescan_interval: 1h}
`)
	o := func(name, path string) origins.OriginConfig {
		return origins.OriginConfig{Name: name, Path: path, Watch: true, Cache: true}
	}
	tests := []struct {
		name string
		args []string
		want []origins.OriginConfig
	}{
		{"file, per-origin defaults", []string{"--config", file}, []origins.OriginConfig{
			o("nas", "/mnt/nas"),
			{Name: "local", Path: "/srv/local", RescanInterval: time.Hour},
		}},
		{"named flag", []string{"--origin", "nas=/mnt/nas/music"}, []origins.OriginConfig{o("nas", "/mnt/nas/music")}},
		{"unnamed flag", []string{"--origin", "/mnt/My Music/"}, []origins.OriginConfig{o("my-music", "/mnt/My Music")}},
		{"equals in the path", []string{"--origin", "/srv/a=b"}, []origins.OriginConfig{o("a-b", "/srv/a=b")}},
		{"relative and home", []string{"--origin", "music", "--origin", "~/Music"}, []origins.OriginConfig{
			o("music", filepath.Join(cwd, "music")), o("music-2", "/home/user/Music"),
		}},
		{"derived name avoids an explicit one", []string{"--origin", "/a/music", "--origin", "music=/b"}, []origins.OriginConfig{
			o("music-2", "/a/music"), o("music", "/b"),
		}},
		{"flags replace the file's", []string{"--config", file, "--origin", "x=/x"}, []origins.OriginConfig{o("x", "/x")}},
		{"name kept verbatim for Validate", []string{"--origin", "Nas=/x"}, []origins.OriginConfig{o("Nas", "/x")}},
		{"root dir", []string{"--origin", "/"}, []origins.OriginConfig{o("origin", "/")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := mustLoad(t, tt.args, baseEnv())
			if !reflect.DeepEqual(cfg.Origins.Origins, tt.want) {
				t.Fatalf("origins:\n got %+v\nwant %+v", cfg.Origins.Origins, tt.want)
			}
		})
	}
}

func TestLoadPaths(t *testing.T) {
	cwd, _ := os.Getwd()
	cfg := mustLoad(t, []string{"--mountpoint", "mnt/", "--cache-dir", "~/c", "--state-dir", "~"}, baseEnv())
	if cfg.FS.Mountpoint != filepath.Join(cwd, "mnt") || cfg.Cache.Store.Dir != "/home/user/c" || cfg.Index.StateDir != "/home/user" {
		t.Fatalf("paths: %q %q %q", cfg.FS.Mountpoint, cfg.Cache.Store.Dir, cfg.Index.StateDir)
	}
}

// loadErr loads and checks that the error wraps ErrInvalid and mentions
// every string in want.
func loadErr(t *testing.T, args, environ []string, want ...string) error {
	t.Helper()
	cfg, err := app.Load(args, environ)
	if err == nil {
		t.Fatalf("Load(%q) = %+v, want error", args, cfg)
	}
	if !errors.Is(err, config.ErrInvalid) {
		t.Fatalf("error does not wrap ErrInvalid: %v", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
	t.Log(err)
	return err
}

func TestLoadUnknownKeys(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string
	}{
		{"top level in file", "colour: red\n", nil, []string{"colour: unknown key (in "}},
		{"nested in file", "log: {level: info, colour: red}\n", nil, []string{"log.colour: unknown key"}},
		{"in an origin", "origins:\n  - {name: a, path: /a}\n  - {name: b, path: /b, wach: true}\n", nil, []string{"origins[1].wach: unknown key"}},
		{"in a view", "views: [{name: A, template: x, sort: y}]\n", nil, []string{"views[0].sort: unknown key"}},
		{"case matters", "Mountpoint: /x\n", nil, []string{"Mountpoint: unknown key"}},
		{"dotted key", "log.level: debug\n", nil, []string{`"log.level": unknown key`}},
		{"internal field", "log: {statedir: /x}\n", nil, []string{"log.statedir: unknown key"}},
		{"several at once", "a: 1\nb: 2\n", nil, []string{"a: unknown key", "b: unknown key"}},
		{"in env", "", []string{"MUSICFS_LOG__COLOUR=red"}, []string{"log.colour: unknown key (from MUSICFS_LOG__COLOUR)"}},
		{"top level in env", "", []string{"MUSICFS_MOUNT_POINT=/x"}, []string{"mount_point: unknown key (from MUSICFS_MOUNT_POINT)"}},
		{"file and env together", "colour: red\n", []string{"MUSICFS_FLAVOUR=x"}, []string{"colour: unknown key", "flavour: unknown key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loadErr(t, []string{"--config", writeConfig(t, tt.yaml)}, baseEnv(tt.env...), tt.want...)
		})
	}
}

func TestLoadBadValues(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  []string
		want []string
	}{
		{"size", "cache: {max_size: 20 gigs}\n", nil, []string{"cache.max_size: invalid size", "20 gigs"}},
		{"negative size", "cache: {max_size: -1}\n", nil, []string{"cache.max_size: invalid size"}},
		{"size as a list", "cache: {max_size: [1]}\n", nil, []string{"cache.max_size: expected a string, got a list"}},
		{"min_free", "cache: {min_free: 150%}\n", nil, []string{"cache.min_free: invalid percentage"}},
		{"duration", "read_timeout: soon\n", nil, []string{"read_timeout: invalid duration", "soon"}},
		{"duration without unit", "shutdown_timeout: 30\n", nil, []string{"shutdown_timeout: duration 30 needs a unit"}},
		{"origin duration", "origins: [{name: a, path: /a, rescan_interval: hourly}]\n", nil, []string{"origins[0].rescan_interval: invalid duration"}},
		{"bool", "allow_other: maybe\n", nil, []string{"allow_other: invalid boolean"}},
		{"map for a value", "mountpoint: {a: b}\n", nil, []string{"mountpoint: expected a string, got a map"}},
		{"value for a section", "log: debug\n", nil, []string{"log: expected a map"}},
		{"value for a list", "origins: /mnt\n", nil, []string{"origins: expected a list, got a string"}},
		{"env duration", "", []string{"MUSICFS_READ_TIMEOUT=abc"}, []string{"read_timeout: invalid duration", "(from MUSICFS_READ_TIMEOUT)"}},
		{"env size", "", []string{"MUSICFS_CACHE__MAX_SIZE=big"}, []string{"cache.max_size: invalid size", "(from MUSICFS_CACHE__MAX_SIZE)"}},
		{"env bool", "", []string{"MUSICFS_ALLOW_OTHER=sure"}, []string{"allow_other: invalid boolean"}},
		{"env for a section", "", []string{"MUSICFS_LOG=debug"}, []string{"log: expected a map"}},
		{"yaml syntax", "log: [\n", nil, []string{"--config ", "yaml:"}},
		{"yaml not a map", "- a\n- b\n", nil, []string{"--config "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loadErr(t, []string{"--config", writeConfig(t, tt.yaml)}, baseEnv(tt.env...), tt.want...)
		})
	}
}

func TestLoadNumbersAsStrings(t *testing.T) {
	file := writeConfig(t, "origins: [{name: 2024, path: /a}]\ncache: {max_size: 1073741824, min_free: 0}\nread_timeout: 0\n")
	cfg := mustLoad(t, []string{"--config", file}, baseEnv())
	if cfg.Origins.Origins[0].Name != "2024" || cfg.Cache.Limits.MaxSize != config.GiB || cfg.Cache.Limits.MinFree != (config.MinFree{}) || cfg.Origins.ReadTimeout != 0 {
		t.Fatalf("got %+v", cfg)
	}
}

func TestLoadUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown flag", []string{"--bogus"}, []string{"flag provided but not defined: -bogus", "Usage: musicfs", "-mountpoint"}},
		{"missing value", []string{"--mountpoint"}, []string{"flag needs an argument: -mountpoint"}},
		{"bad bool", []string{"--allow-other=perhaps"}, []string{"invalid boolean value", "allow-other"}},
		{"positional", []string{"--mountpoint", "/m", "extra"}, []string{`unexpected argument "extra"`, "Usage: musicfs"}},
		{"missing file", []string{"--config", "/nonexistent/musicfs.yaml"}, []string{"--config /nonexistent/musicfs.yaml: no such file or directory"}},
		{"device", []string{"--config", "/dev/zero"}, []string{"--config /dev/zero: not a regular file"}},
		{"directory", []string{"--config", "/"}, []string{"--config /: not a regular file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loadErr(t, tt.args, baseEnv(), tt.want...)
		})
	}
}

func TestLoadHelp(t *testing.T) {
	_, err := app.Load([]string{"-h"}, baseEnv())
	if !errors.Is(err, flag.ErrHelp) || errors.Is(err, config.ErrInvalid) {
		t.Fatalf("-h: want flag.ErrHelp and not ErrInvalid, got %v", err)
	}
	if !strings.Contains(err.Error(), "--origin") && !strings.Contains(err.Error(), "-origin") {
		t.Fatalf("help text lacks the flags: %q", err)
	}
}
