package cas_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/musicfs/musicfs/modules/cas"
)

func TestModule(t *testing.T) {
	cfg := cas.Config{Dir: filepath.Join(t.TempDir(), "cache")}
	var s *cas.Store
	app := fxtest.New(t, cas.Module,
		fx.Supply(cfg),
		fx.Provide(
			func() *zap.Logger { return zaptest.NewLogger(t) },
			func() prometheus.Registerer { return prometheus.NewRegistry() },
		),
		fx.Populate(&s),
	)
	app.RequireStart()
	if _, err := os.Stat(filepath.Join(cfg.Dir, "manifests.db")); err != nil {
		t.Fatal(err)
	}
	data := content(50, 3*bs)
	k := keyOf("nas", "m", data)
	mustReadAll(t, open(t, s, k, newOrigin(data)), data)
	app.RequireStop()
}

func TestConfigValidate(t *testing.T) {
	withDir := func(edit func(*cas.Config)) cas.Config {
		c := cas.DefaultConfig()
		c.Dir = "/x"
		edit(&c)
		return c
	}
	tests := []struct {
		name string
		cfg  cas.Config
		ok   bool
	}{
		{"defaults and a dir", withDir(func(*cas.Config) {}), true},
		{"no dir", cas.DefaultConfig(), false},
		{"negative block size", withDir(func(c *cas.Config) { c.BlockSize = -1 }), false},
		{"block size too large", withDir(func(c *cas.Config) { c.BlockSize = 65 << 20 }), false},
		{"negative fresh_for", withDir(func(c *cas.Config) { c.FreshFor = -1 }), false},
	}
	for _, tc := range tests {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}
