package app

import (
	"reflect"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/cas"
	"github.com/musicfs/musicfs/modules/fusefs"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/janitor"
	"github.com/musicfs/musicfs/modules/logging"
	"github.com/musicfs/musicfs/modules/metrics"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

func loaded(t *testing.T, args ...string) *Config {
	t.Helper()
	cfg, err := Load(append([]string{"--mountpoint", "/srv/music", "--state-dir", "/s", "--cache-dir", "/c"}, args...),
		[]string{"HOME=/home/user"})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Each module gets its own section, and the keys it shares from their
// owner's.
func TestConfigsProvideEverySlice(t *testing.T) {
	cfg := loaded(t, "--allow-other", "--origin", "a=/a", "--origin", "b=/b")
	cfg.Origins.Origins[1].Cache = false
	cfg.Origins.ReadTimeout = 7 * time.Second
	cfg.Metrics.Listen = "127.0.0.1:0"
	var (
		o   origins.Config
		tr  tree.Config
		ix  index.Config
		l   logging.Config
		m   metrics.Config
		f   fusefs.Config
		j   janitor.Config
		s   cas.Config
		c   cache.Config
		app = fxtest.New(t, configs, fx.Supply(cfg), fx.NopLogger, fx.Populate(&o, &tr, &ix, &l, &m, &f, &j, &s, &c))
	)
	app.RequireStart().RequireStop()

	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"origins", o, cfg.Origins},
		{"tree", tr, cfg.Tree},
		{"index", ix, index.Config{StateDir: "/s", ReadTimeout: 7 * time.Second}},
		{"logging", l, logging.Config{Level: "info", Format: "console", StateDir: "/s"}},
		{"metrics", m, metrics.Config{Listen: "127.0.0.1:0"}},
		{"fusefs", f, fusefs.Config{Mountpoint: "/srv/music", AllowOther: true}},
		{"janitor", j, janitor.Config{Mountpoint: "/srv/music", StatTimeout: janitor.DefaultStatTimeout}},
		{"cas", s, cas.Config{Dir: "/c", ScrubRate: cas.DefaultScrubRate, Passthrough: cas.PassthroughAuto, ReadTimeout: 7 * time.Second}},
		{"cache", c, cache.Config{MaxSize: cache.DefaultMaxSize, MinFree: cache.DefaultMinFree, Pin: []string{}, Dir: "/c", Uncached: []string{"b"}}},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s config:\n got %+v\nwant %+v", c.name, c.got, c.want)
		}
	}
}

func TestPassthroughOffReachesFusefs(t *testing.T) {
	for _, tc := range []struct {
		value string
		off   bool
	}{{cas.PassthroughAuto, false}, {cas.PassthroughOff, true}} {
		cfg := loaded(t)
		cfg.Cache.Store.Passthrough = tc.value
		var f fusefs.Config
		fxtest.New(t, configs, fx.Supply(cfg), fx.NopLogger, fx.Populate(&f)).RequireStart().RequireStop()
		if f.NoPassthrough != tc.off {
			t.Errorf("cache.passthrough: %s gives fusefs NoPassthrough %v", tc.value, f.NoPassthrough)
		}
	}
}
