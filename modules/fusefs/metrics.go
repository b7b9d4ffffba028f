package fusefs

import (
	"runtime/debug"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// op names a FUSE operation in logs and metric labels.
type op int

const (
	opLookup op = iota
	opGetattr
	opOpendir
	opReaddir
	opOpen
	opRead
	opRelease
	opStatfs
	opCount
)

var opNames = [opCount]string{"lookup", "getattr", "opendir", "readdir", "open", "read", "release", "statfs"}

func (o op) String() string { return opNames[o] }

type metrics struct {
	latency [opCount]prometheus.Observer
	errors  *prometheus.CounterVec
	panics  prometheus.Counter
	// passthrough counts opens handed to the kernel (FUSE passthrough).
	passthrough prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "musicfs_fuse_op_duration_seconds",
		Help:    "Latency of FUSE operations served by musicfs, by operation.",
		Buckets: prometheus.ExponentialBuckets(10e-6, 4, 10), // 10µs .. ~2.6s
	}, []string{"op"})
	m := &metrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "musicfs_fuse_errors_total",
			Help: "FUSE operations that returned an error, by operation and errno.",
		}, []string{"op", "errno"}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_fuse_panics_total",
			Help: "Panics recovered inside FUSE requests (each answered with EIO).",
		}),
		passthrough: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_fuse_passthrough_opens_total",
			Help: "Opens of complete cached files handed to the kernel (FUSE passthrough).",
		}),
	}
	for _, c := range []prometheus.Collector{hist, m.errors, m.panics, m.passthrough} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for o := range opCount {
		m.latency[o] = hist.WithLabelValues(o.String())
	}
	return m, nil
}

// begin counts an operation in flight and returns its start time; every
// operation defers track(…, begin(), …).
func (f *FS) begin() time.Time {
	f.inflight.Add(1)
	return time.Now()
}

// track is deferred by every operation: it records latency and errors, and
// turns a panic into EIO with a log line naming the op, path and stack, so
// one bad request never takes the mount down.
func (f *FS) track(o op, ino uint64, start time.Time, errno *syscall.Errno) {
	defer f.inflight.Add(-1)
	if r := recover(); r != nil {
		f.metrics.panics.Inc()
		f.log.Error("panic in FUSE request", zap.String("op", o.String()), zap.Uint64("ino", ino),
			zap.String("path", f.path(ino)), zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
		*errno = syscall.EIO
	}
	f.metrics.latency[o].Observe(time.Since(start).Seconds())
	if *errno != 0 && *errno != syscall.ENOENT {
		f.metrics.errors.WithLabelValues(o.String(), (*errno).Error()).Inc()
	}
}

// fusePanic is go-fuse's last line of defence, for panics outside our node
// code (inside go-fuse itself).
func (f *FS) fusePanic(r any) {
	f.metrics.panics.Inc()
	f.log.Error("panic in FUSE server", zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
}
