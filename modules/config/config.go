// Package config loads a configuration: defaults < YAML file < MUSICFS_
// environment variables < command-line flags, in one koanf instance,
// decoded into a schema struct it knows nothing about. The modules own their
// keys (koanf tags), defaults and validation; package app composes them.
//
// Tags are koanf:"key", koanf:",squash" (a struct whose keys sit at this
// level) and koanf:"key,path" (a path that Load makes absolute and in which
// it expands a leading "~/"); koanf:"-" marks a field that is not a key.
package config

import "path/filepath"

// Schema describes the configuration Load builds into a T.
type Schema[T any] struct {
	// Defaults is the bottom layer, for the environment Load runs in.
	Defaults func(Env) T
	// ListDefaults are, by the key of a top-level list of sections ("origins"), the
	// values of the fields an element leaves out, in whichever layer it is
	// given.
	ListDefaults map[string]any
}

// Env is what defaults may depend on.
type Env struct {
	EUID int
	// Vars are the environment variables, with HOME set if it can be found.
	Vars map[string]string
}

// StateDir is the default directory for persisted state: a system
// directory for root, the XDG base directory otherwise; empty without a home.
func (e Env) StateDir() string { return e.dir("/var/lib/musicfs", "XDG_STATE_HOME", ".local/state") }

// CacheDir is the default cache directory, chosen as StateDir is.
func (e Env) CacheDir() string { return e.dir("/var/cache/musicfs", "XDG_CACHE_HOME", ".cache") }

func (e Env) dir(system, xdgVar, fallback string) string {
	if e.EUID == 0 {
		return system
	}
	// The XDG spec says relative values are invalid and to be ignored.
	if d := e.Vars[xdgVar]; filepath.IsAbs(d) {
		return filepath.Join(d, "musicfs")
	}
	if home := e.Vars["HOME"]; home != "" {
		return filepath.Join(home, fallback, "musicfs")
	}
	return ""
}
