package index

// Scan progress, for the "scanning" log lines and STATUS=.

import (
	"math"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// progress is the current (or last) scan's progress, for logs and STATUS=.
type progress struct {
	files atomic.Int64 // files handled by the scan
	total atomic.Int64 // files at the end of the last complete full scan, 0 if unknown
	began atomic.Int64 // Unix ns
	ended atomic.Int64 // Unix ns, 0 while the scan runs
}

func (p *progress) begin(now time.Time, total int) {
	p.files.Store(0)
	p.total.Store(int64(total))
	p.began.Store(now.UnixNano())
	p.ended.Store(0)
}

func (p *progress) end() { p.ended.Store(time.Now().UnixNano()) }

// Progress returns the current (or last) scan's progress: files handled so
// far, the file count of the last complete full scan (0 when unknown, e.g.
// on the first run) as an estimate of the total, and files per second.
func (ix *Index) Progress() (files, total int, rate float64) {
	files, total = int(ix.progress.files.Load()), int(ix.progress.total.Load())
	if b := ix.progress.began.Load(); b != 0 {
		end := time.Now()
		if e := ix.progress.ended.Load(); e != 0 {
			end = time.Unix(0, e)
		}
		if d := end.Sub(time.Unix(0, b)).Seconds(); d > 0 {
			rate = float64(files) / d
		}
	}
	return files, total, rate
}

func (ix *Index) logProgress(now time.Time, read int) {
	files, total, rate := ix.Progress()
	fields := []zap.Field{zap.Int("files", files), zap.Int("tags_read", read),
		zap.Float64("files_per_second", math.Round(rate*10)/10),
		zap.Duration("elapsed", now.Sub(time.Unix(0, ix.progress.began.Load())).Round(time.Second))}
	if total > 0 && rate > 0 {
		left := time.Duration(float64(max(total-files, 0)) / rate * float64(time.Second))
		fields = append(fields, zap.Int("last_scan_files", total), zap.Duration("remaining_estimate", left.Round(time.Second)))
	}
	ix.log.Info("scanning", fields...)
}
