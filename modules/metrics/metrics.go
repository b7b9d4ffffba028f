// Package metrics owns the Prometheus registry every module registers its
// collectors with, and the optional HTTP listener that serves it.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// NewRegistry returns a registry with the Go runtime and process
// collectors.
func NewRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// Params are the Server's dependencies.
type Params struct {
	fx.In
	Config   Config
	Gatherer prometheus.Gatherer
	Logger   *zap.Logger
}

// Server serves /metrics on Config.Listen, when set.
type Server struct {
	cfg    Config
	log    *zap.Logger
	srv    *http.Server
	served chan struct{} // closed when the serving goroutine returns

	mu   sync.Mutex // guards addr
	addr string
}

// New prepares the server; Start listens.
func New(p Params) *Server {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(p.Gatherer, promhttp.HandlerOpts{
		ErrorLog:            zap.NewStdLog(p.Logger),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	return &Server{
		cfg: p.Config,
		log: p.Logger,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          zap.NewStdLog(p.Logger),
		},
	}
}

// Start listens synchronously, so that a bad or busy address fails the
// start, and serves in a goroutine that Stop ends.
func (s *Server) Start(context.Context) error {
	if s.cfg.Listen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("metrics.listen %q: %w", s.cfg.Listen, err)
	}
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.mu.Unlock()
	s.served = make(chan struct{})
	go func() {
		defer close(s.served)
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener stopped", zap.String("addr", ln.Addr().String()), zap.Error(err))
		}
	}()
	s.log.Info("serving metrics", zap.String("url", "http://"+ln.Addr().String()+"/metrics"))
	return nil
}

// Stop shuts the listener down, waiting for scrapes in progress until ctx
// ends, then closes what is left.
func (s *Server) Stop(ctx context.Context) error {
	if s.served == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(fmt.Errorf("shut down metrics listener: %w", err), s.srv.Close())
	}
	<-s.served
	return err
}

// Addr is the address the listener is bound to, "" when not listening.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}
