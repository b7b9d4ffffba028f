package app_test

import (
	"path/filepath"
	"testing"

	"go.uber.org/fx"

	"github.com/musicfs/musicfs/app"
)

func testConfig(t *testing.T) *app.Config {
	t.Helper()
	cfg, err := app.Load([]string{"--mountpoint", filepath.Join(t.TempDir(), "m"), "--origin", "lib=" + t.TempDir(),
		"--state-dir", t.TempDir(), "--cache-dir", t.TempDir()}, nil)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestGraphIsValid(t *testing.T) {
	if err := fx.ValidateApp(app.Options(testConfig(t))); err != nil {
		t.Fatal(err)
	}
}
