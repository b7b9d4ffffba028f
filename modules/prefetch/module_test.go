package prefetch_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/musicfs/musicfs/internal/testing/indextest"
	"github.com/musicfs/musicfs/internal/testing/promtest"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/prefetch"
	"github.com/musicfs/musicfs/modules/tree"
)

func TestModule(t *testing.T) {
	one, two := track("al/01.flac", 1, 1, 10*MiB), track("al/02.flac", 1, 2, 10*MiB)
	f := newFakeFetcher()
	reg := prometheus.NewRegistry()
	opts := fx.Options(
		tree.Module,
		prefetch.Module,
		fx.Supply(tree.DefaultConfig(), prefetch.Config{NextTracks: 1, PlayAfter: -1}),
		fx.Provide(
			func() index.Source { return indextest.NewSource(one, two) },
			func() prefetch.Fetcher { return f },
			func() *zap.Logger { return zaptest.NewLogger(t) },
			func() prometheus.Registerer { return reg },
		),
	)
	if err := fx.ValidateApp(opts); err != nil {
		t.Fatal(err)
	}
	var p *prefetch.Prefetcher
	app := fxtest.New(t, opts, fx.Populate(&p))
	app.RequireStart()
	s := p.Opened(one)
	if c := wait(t, f.started, "head"); c.String() != "o/al/02.flac[0+2097152]" {
		t.Fatalf("fetched %v", c)
	}
	s.Read(0, 1)
	wait(t, f.started, "read-ahead")
	s.Close()
	app.RequireStop()
	if got := promtest.Value(t, reg, "musicfs_prefetch_requests_total", "kind", "next"); got != 1 {
		t.Errorf("requests{next} = %v", got)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  prefetch.Config
		want string
	}{
		{"zero is the defaults", prefetch.Config{}, ""},
		{"defaults", prefetch.DefaultConfig(), ""},
		{"off", prefetch.Config{Window: -1, NextTracks: -1}, ""},
		{"head", prefetch.Config{Head: -1}, "prefetch.head: must be >= 0"},
		{"workers", prefetch.Config{Workers: -2}, "prefetch.workers: must be >= 0"},
		{"chunk", prefetch.Config{Chunk: -1}, "prefetch.chunk: must be >= 0"},
		{"queue", prefetch.Config{Queue: -1}, "prefetch.queue: must be >= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if got := errString(err); got != tc.want {
				t.Fatalf("Validate() = %q, want %q", got, tc.want)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestNewRejectsABadConfig(t *testing.T) {
	_, err := prefetch.New(prefetch.Params{Config: prefetch.Config{Workers: -1}, Registerer: prometheus.NewRegistry()})
	if err == nil {
		t.Fatal("New accepted workers: -1")
	}
}
