package index

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	files  prometheus.Counter
	errors prometheus.Counter
	panics prometheus.Counter
	tracks prometheus.Gauge
	// untagged counts the audio files in the index whose tags were not
	// read, by Reason.
	untagged *prometheus.GaugeVec
}

// newMetrics creates the index's collectors and registers them with reg
// (nil: not registered, for use without fx).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		files: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_scan_files_total",
			Help: "Files seen by origin scans.",
		}),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_scan_errors_total",
			Help: "Files whose tags could not be read (I/O errors, timeouts, malformed tags) and failed origin walks.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_scan_panics_total",
			Help: "Panics contained while scanning (tag reading, origin access).",
		}),
		tracks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "musicfs_index_tracks",
			Help: "Audio files in the index.",
		}),
		untagged: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "musicfs_index_untagged",
			Help: "Audio files in the index whose tags were not read, by reason (no_tags, no_reader, unknown_format, malformed, too_large, io_error, timeout, panic).",
		}, []string{"reason"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.files, m.errors, m.panics, m.tracks, m.untagged} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register index metrics: %w", err)
		}
	}
	return m, nil
}
