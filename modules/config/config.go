// Package config loads the daemon's configuration: defaults < YAML file <
// MUSICFS_ environment variables < command-line flags, in one koanf
// instance, and hands each module its slice of it.
package config

import (
	"path/filepath"
	"time"

	"github.com/musicfs/musicfs/modules/logging"
	"github.com/musicfs/musicfs/modules/metrics"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

// Config is the whole configuration; the koanf tags are the YAML keys
// documented in configs/musicfs.yaml.
type Config struct {
	// Mountpoint is where the filesystem is mounted. Required.
	Mountpoint string `koanf:"mountpoint"`
	// AllowOther lets users other than the daemon's read the mount.
	AllowOther bool `koanf:"allow_other"`
	// Origins are the library roots, at least one.
	Origins []origins.OriginConfig `koanf:"origins"`
	// Views are the tag views; tree.DefaultViews when not configured.
	Views []tree.View `koanf:"views"`
	// Tags says how tag values become names.
	Tags tree.Tags `koanf:"tags"`
	// StateDir holds persisted state: the index and crash.log.
	StateDir string `koanf:"state_dir"`
	Cache    Cache  `koanf:"cache"`
	// ReadTimeout bounds every origin read.
	ReadTimeout time.Duration `koanf:"read_timeout"`
	// ShutdownTimeout bounds a clean stop.
	ShutdownTimeout time.Duration  `koanf:"shutdown_timeout"`
	Log             logging.Config `koanf:"log"`
	Metrics         metrics.Config `koanf:"metrics"`
}

// Cache is the `cache:` section.
type Cache struct {
	Dir     string  `koanf:"dir"`
	MaxSize Size    `koanf:"max_size"`
	MinFree MinFree `koanf:"min_free"`
	// Pin lists virtual paths or globs fetched in full and never evicted.
	Pin []string `koanf:"pin"`
	// ScrubRate bounds the background re-hashing of complete blobs, in
	// bytes per second; 0 turns the scrub off.
	ScrubRate Size `koanf:"scrub_rate"`
	// Passthrough is auto (complete cached files are read by the kernel
	// through FUSE passthrough where it can) or off (the daemon serves and
	// checks every read).
	Passthrough string `koanf:"passthrough"`
}

// Values of cache.passthrough.
const (
	PassthroughAuto = "auto"
	PassthroughOff  = "off"
)

// Defaults that do not depend on the environment.
const (
	DefaultReadTimeout     = 30 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
	DefaultMaxSize         = 20 * GiB
	// DefaultScrubRate re-reads a full 20 GiB cache in about 20 minutes
	// without competing with playback.
	DefaultScrubRate = 16 * MiB
	// JanitorStatTimeout is how long a stat of an existing mount may take
	// before the janitor calls it dead.
	JanitorStatTimeout = 2 * time.Second
)

// DefaultMinFree is the default cache.min_free.
var DefaultMinFree = MinFree{Percent: 5}

// defaultDirs returns state_dir and cache.dir: system directories for root,
// the XDG base directories otherwise.
func defaultDirs(euid int, env map[string]string) (stateDir, cacheDir string) {
	if euid == 0 {
		return "/var/lib/musicfs", "/var/cache/musicfs"
	}
	home := env["HOME"]
	xdg := func(name, fallback string) string {
		// The XDG spec says relative values are invalid and to be ignored.
		if d := env[name]; filepath.IsAbs(d) {
			return filepath.Join(d, "musicfs")
		}
		if home == "" {
			return ""
		}
		return filepath.Join(home, fallback, "musicfs")
	}
	return xdg("XDG_STATE_HOME", ".local/state"), xdg("XDG_CACHE_HOME", ".cache")
}

// defaultMap is the bottom layer, in the same form as a parsed YAML file so
// it goes through the same decoding.
func defaultMap(euid int, env map[string]string) map[string]any {
	stateDir, cacheDir := defaultDirs(euid, env)
	views := make([]any, 0, 4)
	for _, v := range tree.DefaultViews() {
		views = append(views, map[string]any{"name": v.Name, "template": v.Template})
	}
	lc, mc := logging.DefaultConfig(), metrics.DefaultConfig()
	return map[string]any{
		"mountpoint":  "",
		"allow_other": false,
		"origins":     []any{},
		"views":       views,
		"tags":        map[string]any{"various_artists": tree.DefaultVariousArtists, "separator": tree.DefaultSeparator},
		"state_dir":   stateDir,
		"cache": map[string]any{
			"dir":         cacheDir,
			"max_size":    DefaultMaxSize.String(),
			"min_free":    DefaultMinFree.String(),
			"pin":         []any{},
			"scrub_rate":  DefaultScrubRate.String(),
			"passthrough": PassthroughAuto,
		},
		"read_timeout":     DefaultReadTimeout.String(),
		"shutdown_timeout": DefaultShutdownTimeout.String(),
		"log":              map[string]any{"level": lc.Level, "format": lc.Format},
		"metrics":          map[string]any{"listen": mc.Listen},
	}
}

// originDefaults are applied to every origin, from the file or from a flag,
// for each field it omits.
var originDefaults = map[string]any{"watch": true, "cache": true}
