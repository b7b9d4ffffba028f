package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
)

func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

func workingDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "" // relative paths stay relative; Validate refuses them
	}
	return wd
}

// resolvePath expands a leading "~/" and makes p absolute against cwd.
// Empty stays empty, so that "required" can be reported.
func resolvePath(p, home, cwd string) string {
	switch {
	case p == "":
		return ""
	case home != "" && (p == "~" || strings.HasPrefix(p, "~/")):
		p = filepath.Join(home, p[1:])
	case !filepath.IsAbs(p) && cwd != "" && !strings.HasPrefix(p, "~"):
		p = filepath.Join(cwd, p)
	}
	return filepath.Clean(p)
}

// resolvePaths applies resolvePath to every path field in v, a struct
// value that can be set.
func resolvePaths(v reflect.Value, home, cwd string) {
	switch {
	case v.Kind() == reflect.Slice:
		for i := range v.Len() {
			resolvePaths(v.Index(i), home, cwd)
		}
	case v.Kind() == reflect.Struct && !isLeaf(v.Type()):
		for f := range v.Type().Fields() {
			fv := v.FieldByIndex(f.Index)
			switch k := fieldOf(f); {
			case k.path && fv.Kind() == reflect.String:
				fv.SetString(resolvePath(fv.String(), home, cwd))
			case k.squash || k.key != "":
				resolvePaths(fv, home, cwd)
			}
		}
	}
}

// splitOrigin parses a --origin value, "[name=]dir". Text before the first
// "=" is a name only if it has no "/", so "/srv/a=b" is a directory.
func splitOrigin(s string) (name, dir string) {
	if n, d, ok := strings.Cut(s, "="); ok && !strings.Contains(n, "/") {
		return n, d
	}
	return "", s
}

// originName derives an origin name from its directory: the base name,
// lower-cased, with every run of characters outside [a-z0-9_-] turned
// into one "-".
func originName(dir string) string {
	base := strings.ToLower(filepath.Base(filepath.Clean(dir)))
	var b strings.Builder
	dash := false
	for _, r := range base {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			b.WriteRune(r)
			dash = r == '-'
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	name := strings.Trim(b.String(), "-")
	if name == "" {
		return "origin"
	}
	return name
}

// uniqueName appends -2, -3, … to name until it is not taken, so two
// --origin flags ending in the same directory name both work.
func uniqueName(name string, taken map[string]bool) string {
	if !taken[name] {
		return name
	}
	for i := 2; ; i++ {
		if n := name + "-" + strconv.Itoa(i); !taken[n] {
			return n
		}
	}
}
