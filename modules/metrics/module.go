package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides the registry, as *prometheus.Registry and through the
// prometheus.Registerer and prometheus.Gatherer interfaces, and runs the
// /metrics listener when metrics.listen is set.
var Module = fx.Module("metrics",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("metrics") }),
	fx.Provide(
		NewRegistry,
		func(r *prometheus.Registry) prometheus.Registerer { return r },
		func(r *prometheus.Registry) prometheus.Gatherer { return r },
		provide,
	),
	fx.Invoke(func(*Server) {}),
)

// provide builds the Server and appends its hooks as it is built, after its
// dependencies': it starts after them and stops before them.
func provide(p Params, lc fx.Lifecycle) *Server {
	s := New(p)
	lc.Append(fx.StartStopHook(s.Start, s.Stop))
	return s
}
