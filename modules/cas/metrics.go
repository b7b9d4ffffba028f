package cas

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the result label of musicfs_cache_repairs_total.
const (
	repairRepaired = "repaired"
	repairFailed   = "failed"
)

type metrics struct {
	hits, misses        prometheus.Counter
	hitBytes, missBytes prometheus.Counter
	originBytes         *prometheus.CounterVec
	integrity           prometheus.Counter
	verifications       prometheus.Counter
	repairs             *prometheus.CounterVec
	uncached            prometheus.Counter
	fetchSeconds        prometheus.Histogram
	bytes               prometheus.GaugeFunc
	probeBytes          prometheus.Counter
	probation           prometheus.GaugeFunc
}

// newMetrics creates the store's collectors and registers them with reg
// (nil: not registered, for use without fx). usage and probation feed the
// gauges.
func newMetrics(reg prometheus.Registerer, usage, probation func() float64) (*metrics, error) {
	m := &metrics{
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_hits_total",
			Help: "Reads served entirely from the cache.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_misses_total",
			Help: "Reads that needed at least one block from the origin.",
		}),
		hitBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_hit_bytes_total",
			Help: "Bytes served from the cache.",
		}),
		missBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_miss_bytes_total",
			Help: "Bytes served from blocks fetched from the origin for the read.",
		}),
		originBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "musicfs_origin_read_bytes_total",
			Help: "Bytes read from origins by the cache fetcher.",
		}, []string{"origin"}),
		integrity: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_integrity_failures_total",
			Help: "Cached blocks and blobs whose content did not match their hash; they were dropped.",
		}),
		verifications: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_blob_verifications_total",
			Help: "Complete blobs hashed whole: at opens, when their file changed, by the scrub.",
		}),
		repairs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "musicfs_cache_repairs_total",
			Help: "Open blobs found damaged: repaired in place from the origin, or failed (cut at the damage and dropped).",
		}, []string{"result"}),
		uncached: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_store_failures_total",
			Help: "Fetched blocks served without being stored (cache full, write error).",
		}),
		fetchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "musicfs_cache_fetch_seconds",
			Help:    "Time to fetch one block from the origin, including the wait for a fetch slot.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		bytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "musicfs_cache_bytes",
			Help: "Disk space allocated to blobs and fill files.",
		}, usage),
		probeBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_probe_bytes_total",
			Help: "Bytes fetched for reads that are not playback (scanners, tag readers): at the size asked for, kept in the probation queue in memory, not on disk.",
		}),
		probation: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "musicfs_cache_probation_bytes",
			Help: "Bytes in the probation queue: data read once, not (yet) admitted to the cache on disk.",
		}, probation),
	}
	for _, r := range []string{repairRepaired, repairFailed} {
		m.repairs.WithLabelValues(r) // listed from the start, at 0
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.hits, m.misses, m.hitBytes, m.missBytes, m.originBytes,
		m.integrity, m.verifications, m.repairs, m.uncached, m.fetchSeconds, m.bytes, m.probeBytes, m.probation} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register cas metrics: %w", err)
		}
	}
	return m, nil
}
