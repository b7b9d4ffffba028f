package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/knadh/koanf/parsers/yaml"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/modules/config"
)

const examplePath = "../../configs/musicfs.yaml"

// TestExampleConfigLoads keeps configs/musicfs.yaml loadable and, with its
// paths pointed at real directories, valid.
func TestExampleConfigLoads(t *testing.T) {
	cfg := mustLoad(t, []string{"--config", examplePath}, baseEnv())
	if cfg.FS.Mountpoint != "/srv/music" || len(cfg.Origins.Origins) != 1 || cfg.Origins.Origins[0].Name != "nas" || len(cfg.Cache.Limits.Pin) != 1 {
		t.Fatalf("example not read as expected: %+v", cfg)
	}
	dir := t.TempDir()
	cfg.FS.Mountpoint = filepath.Join(dir, "mnt")
	cfg.Origins.Origins[0].Path = t.TempDir()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("example config does not validate: %v", err)
	}
}

// TestExampleConfigDocumentsEveryKey fails when a key is added to a module's
// Config without being shown in configs/musicfs.yaml.
func TestExampleConfigDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := yaml.Parser().Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	keys := config.LeafKeys(reflect.TypeFor[app.Config]())
	if len(keys) < 19 {
		t.Fatalf("only %d leaf keys found: %v", len(keys), keys)
	}
	m := config.Normalise(doc).(map[string]any)
	for _, k := range keys {
		if !hasKey(m, strings.Split(k, ".")) {
			t.Errorf("configs/musicfs.yaml does not show %s", k)
		}
	}

	// The check itself must notice a missing key, nested or in a list.
	delete(m["cache"].(map[string]any), "pin")
	delete(m["origins"].([]any)[0].(map[string]any), "cache")
	for _, k := range []string{"cache.pin", "origins[].cache"} {
		if hasKey(m, strings.Split(k, ".")) {
			t.Errorf("hasKey does not notice %s missing", k)
		}
	}
}

// hasKey reports whether the path exists in v; a "name[]" step requires
// every element of the list to have the rest of the path.
func hasKey(v any, path []string) bool {
	if len(path) == 0 {
		return true
	}
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	step, list := strings.CutSuffix(path[0], "[]")
	next, ok := m[step]
	if !ok {
		return false
	}
	if !list {
		return hasKey(next, path[1:])
	}
	items, ok := next.([]any)
	if !ok || len(items) == 0 {
		return false
	}
	for _, it := range items {
		if !hasKey(it, path[1:]) {
			return false
		}
	}
	return true
}
