package metrics

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newApp(t *testing.T, cfg Config, populate ...any) *fxtest.App {
	return fxtest.New(t, Module, fx.NopLogger,
		fx.Supply(cfg),
		fx.Provide(func() *zap.Logger { return zaptest.NewLogger(t) }),
		fx.Populate(populate...))
}

func TestServesRegisteredMetrics(t *testing.T) {
	var (
		srv *Server
		reg prometheus.Registerer
		gat prometheus.Gatherer
		raw *prometheus.Registry
	)
	app := newApp(t, Config{Listen: "127.0.0.1:0"}, &srv, &reg, &gat, &raw)
	if reg != prometheus.Registerer(raw) || gat != prometheus.Gatherer(raw) {
		t.Fatal("Registerer and Gatherer are not the provided registry")
	}
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "musicfs_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	app.RequireStart()
	defer app.RequireStop()

	if srv.Addr() == "" {
		t.Fatal("no bound address")
	}
	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"musicfs_test_total 3", "go_goroutines", "process_open_fds"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestNoListenerWhenEmpty(t *testing.T) {
	var srv *Server
	app := newApp(t, Config{}, &srv)
	app.RequireStart()
	if srv.Addr() != "" {
		t.Errorf("listening on %s with metrics.listen empty", srv.Addr())
	}
	app.RequireStop()
}

func TestStopEndsTheListener(t *testing.T) {
	var srv *Server
	app := newApp(t, Config{Listen: "127.0.0.1:0"}, &srv)
	app.RequireStart()
	addr := srv.Addr()
	app.RequireStop()
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after Stop", addr)
	}
}

func TestBadAddressFailsStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, addr := range []string{"127.0.0.1:notaport", "256.0.0.1:1", busy.Addr().String()} {
		t.Run(addr, func(t *testing.T) {
			s := New(Params{Config: Config{Listen: addr}, Gatherer: NewRegistry(), Logger: zaptest.NewLogger(t)})
			err := s.Start(context.Background())
			if err == nil {
				s.Stop(context.Background())
				t.Fatal("Start succeeded")
			}
			if !strings.Contains(err.Error(), "metrics.listen") {
				t.Fatalf("error does not name metrics.listen: %v", err)
			}
			if err := s.Stop(context.Background()); err != nil {
				t.Fatalf("Stop after a failed Start: %v", err)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tt := range []struct {
		listen string
		ok     bool
	}{{"", true}, {"127.0.0.1:9478", true}, {":9478", true}, {"[::1]:9478", true}, {"9478", false}, {"localhost", false}} {
		err := Config{Listen: tt.listen}.Validate()
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "metrics.listen")) {
			t.Errorf("Validate(%q) = %v", tt.listen, err)
		}
	}
}
