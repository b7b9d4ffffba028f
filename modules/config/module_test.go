package config

import (
	"reflect"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/fusefs"
	"github.com/musicfs/musicfs/modules/janitor"
	"github.com/musicfs/musicfs/modules/logging"
	"github.com/musicfs/musicfs/modules/metrics"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

func TestModuleProvidesEverySlice(t *testing.T) {
	cfg := validConfig(t)
	cfg.AllowOther = true
	cfg.Metrics.Listen = "127.0.0.1:0"
	var (
		o  origins.Config
		tr tree.Config
		l  logging.Config
		m  metrics.Config
		f  fusefs.Config
		j  janitor.Config
	)
	app := fxtest.New(t, Module, fx.Supply(cfg), fx.NopLogger, fx.Populate(&o, &tr, &l, &m, &f, &j))
	app.RequireStart().RequireStop()

	checks := []struct {
		name      string
		got, want any
	}{
		{"origins", o, origins.Config{Origins: cfg.Origins, ReadTimeout: cfg.ReadTimeout}},
		{"tree", tr, tree.Config{Views: cfg.Views, Tags: cfg.Tags}},
		{"logging", l, logging.Config{Level: "info", Format: "console", StateDir: cfg.StateDir}},
		{"metrics", m, metrics.Config{Listen: "127.0.0.1:0"}},
		{"fusefs", f, fusefs.Config{Mountpoint: cfg.Mountpoint, AllowOther: true, ReadTimeout: cfg.ReadTimeout}},
		{"janitor", j, janitor.Config{Mountpoint: cfg.Mountpoint, StatTimeout: JanitorStatTimeout}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s config:\n got %+v\nwant %+v", c.name, c.got, c.want)
		}
	}
	if l.StateDir == "" {
		t.Error("logging.Config.StateDir is empty")
	}
}

func TestPassthroughOffReachesFusefs(t *testing.T) {
	for _, tc := range []struct {
		value string
		off   bool
	}{{PassthroughAuto, false}, {PassthroughOff, true}} {
		cfg := validConfig(t)
		cfg.Cache.Passthrough = tc.value
		var (
			f fusefs.Config
			c cas.Config
		)
		fxtest.New(t, Module, fx.Supply(cfg), fx.NopLogger, fx.Populate(&f, &c)).RequireStart().RequireStop()
		if f.NoPassthrough != tc.off || c.VerifyReads != tc.off {
			t.Errorf("cache.passthrough: %s gives fusefs NoPassthrough %v, cas VerifyReads %v", tc.value, f.NoPassthrough, c.VerifyReads)
		}
	}
}
