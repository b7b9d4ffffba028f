package config_test

import (
	"errors"
	"os"
	"testing"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/modules/config"
)

// FuzzLoadYAML: whatever the file holds, Load and Validate never panic and
// either accept it or return an error wrapping ErrInvalid.
func FuzzLoadYAML(f *testing.F) {
	if b, err := os.ReadFile(examplePath); err == nil {
		f.Add(b)
	}
	f.Add([]byte(""))
	f.Add([]byte("mountpoint: /m\norigins: [{name: a, path: /}]\n"))
	f.Add([]byte("cache: {max_size: 1.5GiB, min_free: 5%}\nread_timeout: 1h\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte) {
		file, err := os.CreateTemp(dir, "*.yaml")
		if err != nil {
			t.Fatal(err)
		}
		defer os.Remove(file.Name())
		if _, err := file.Write(content); err != nil {
			t.Fatal(err)
		}
		if err := file.Close(); err != nil {
			t.Fatal(err)
		}
		cfg, err := app.Load([]string{"--config", file.Name()}, baseEnv())
		if err != nil {
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Load error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if cfg == nil {
			t.Fatal("Load returned neither a config nor an error")
		}
		if err := cfg.Validate(); err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Fatalf("Validate error does not wrap ErrInvalid: %v", err)
		}
	})
}
