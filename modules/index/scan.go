package index

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// During a scan the records found so far are published every publishEvery
// changed files or publishInterval, whichever comes first, so the tree grows
// while a large library is scanned.
const (
	publishEvery    = 2000
	publishInterval = time.Second
	// progressInterval spaces the "scanning" progress log lines.
	progressInterval = 5 * time.Second
)

func key(origin, relpath string) string { return origin + "\x00" + relpath }

// job is a file whose tags must be read.
type job struct {
	o   origins.Origin
	e   origins.Entry
	idx int       // position of its last record in the scan's list, -1 if new
	at  time.Time // when the walk listed it
}

// result is one file's record, new or carried over from the last scan.
type result struct {
	t      *Track
	reread bool      // tags were read (or tried) in this scan
	retry  bool      // the read failed because of the origin: try again next scan
	idx    int       // as job.idx
	at     time.Time // as job.at
	bytes  int64     // read from the file to find its tags
}

// scan walks the origins in only (all origins when only is nil) once,
// persisting and publishing what it finds in batches; it reports whether it
// ran to the end (false when ctx was cancelled). Files whose size and mtime
// did not change keep their record. Files not seen are removed only for
// origins that are healthy (see checkOrigin) and whose walk reached its end,
// and not under directories the walk had to skip: an origin that is offline
// or failed mid-walk keeps its records. Refreshes queued meanwhile are
// applied between batches (see refreshDuringScan).
func (ix *Index) scan(ctx context.Context, only map[string]bool) bool {
	start := time.Now()
	var list []origins.Origin
	for _, o := range ix.origins.List() {
		if only == nil || only[o.Name()] {
			list = append(list, o)
		}
	}
	prev := sortedTracks(ix.Tracks())
	st := newScanState(prev, ix.retry, ix.in)
	retry := ix.retry // read-only for this scan's producer
	meta := ix.meta   // read-only until the walk is over
	total := 0
	if only == nil {
		total = ix.lastFiles
	}
	ix.progress.begin(start, total)
	defer ix.progress.end()
	names := make([]string, len(list))
	for i, o := range list {
		names[i] = o.Name()
	}
	ix.log.Info("scan started", zap.Strings("origins", names), zap.Int("known_files", len(prev)))

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// However the scan ends (even by a panic here), no goroutine outlives it.
	defer func() {
		cancel()
		wg.Wait()
	}()

	jobs := make(chan job)
	results := make(chan result, 256)
	var workers sync.WaitGroup
	for range ix.cfg.Workers {
		workers.Go(func() {
			for j := range jobs {
				r := ix.readTrack(ctx, j.o, j.e)
				r.idx, r.at = j.idx, j.at
				select {
				case results <- r:
				case <-ctx.Done():
				}
			}
		})
	}
	outcomes := map[string]outcome{}
	wg.Go(func() {
		defer close(results)
		defer workers.Wait()
		defer close(jobs)
		for _, o := range list {
			if ctx.Err() != nil {
				return
			}
			outcomes[o.Name()] = ix.scanOrigin(ctx, o, retry, prev, meta, jobs, results)
		}
	})

	ix.collect(ctx, st, results, start)
	if ctx.Err() != nil {
		// Keep what was found: the next scan goes on from there.
		ix.persist(batch{puts: st.takeDirty(), retry: st.retry})
		return false
	}
	removed := ix.commitScan(st, only, outcomes)
	ix.logScanFinished(st, removed, start)
	return true
}

// scanOrigin checks one origin's health, then walks it if it is healthy.
// prev holds the records of every origin scanned (sorted).
func (ix *Index) scanOrigin(ctx context.Context, o origins.Origin, retry map[string]struct{},
	prev []*Track, meta map[string]originMeta, jobs chan<- job, results chan<- result) outcome {
	name := o.Name()
	lo, hi := originRange(prev, name)
	h := ix.checkOrigin(ctx, o, hi-lo, meta[name])
	if !h.ok {
		if ctx.Err() == nil {
			ix.setOffline(name, h.reason, hi-lo)
		}
		return outcome{}
	}
	out := ix.walkOrigin(ctx, o, retry, prev[lo:hi], lo, jobs, results)
	out.health = h
	if out.walked && out.files == 0 && hi > lo {
		// Emptied between the check and the walk: same rule.
		ix.setOffline(name, fmt.Sprintf("walk found no files but the index holds %d from it", hi-lo), hi-lo)
		out.walked = false
	}
	return out
}

// collect applies results until the producer closes them, publishing in
// batches, logging progress and applying the refreshes queued meanwhile.
func (ix *Index) collect(ctx context.Context, st *scanState, results <-chan result, start time.Time) {
	ticker := time.NewTicker(publishInterval)
	defer ticker.Stop()
	lastProgress := start
	for done := false; !done; {
		select {
		case r, ok := <-results:
			if !ok {
				done = true
				break
			}
			st.apply(r)
			ix.progress.files.Add(1)
			if st.pending >= publishEvery {
				ix.flush(st)
			}
		case now := <-ticker.C:
			if st.pending > 0 {
				ix.flush(st)
			}
			if now.Sub(lastProgress) >= progressInterval {
				lastProgress = now
				ix.logProgress(now, st.read)
			}
		case <-ix.wake:
			// Scan requests stay queued for the run loop, which looks at
			// the queue again after the scan.
			if paths := ix.takePaths(); len(paths) > 0 {
				ix.refreshDuringScan(ctx, st, paths)
			}
		}
	}
}

// commitScan ends a scan that ran to the end: it drops the unseen records
// that do not stay, marks the walked origins online, persists and publishes
// the result. It returns how many records were removed.
func (ix *Index) commitScan(st *scanState, only map[string]bool, outcomes map[string]outcome) int {
	configured := map[string]bool{}
	for _, o := range ix.origins.List() {
		configured[o.Name()] = true
	}
	tracks, removed := st.finish(func(t *Track) bool {
		// Unseen records stay unless their origin was walked (outside the
		// directories it skipped), or (in a full scan) is no longer
		// configured at all.
		if !configured[t.Origin] {
			return only != nil
		}
		if only != nil && !only[t.Origin] {
			return true
		}
		out, ok := outcomes[t.Origin]
		return !ok || out.keeps(t.RelPath)
	})
	b := batch{puts: st.takeDirty(), dels: removed, retry: st.retry}
	for name, out := range outcomes {
		if !out.walked {
			continue
		}
		ix.setOnline(name)
		if out.health.mountKnown {
			if b.origins == nil {
				b.origins = map[string]originMeta{}
			}
			m := originMeta{mountpoint: out.health.mounted}
			b.origins[name] = m
			ix.meta[name] = m
		}
	}
	if only == nil {
		b.files = len(tracks)
		ix.lastFiles = len(tracks)
	}
	ix.retry = st.retry
	ix.persist(b)
	if st.changed {
		ix.publish(tracks)
	}
	if only == nil {
		ix.in = reseeded(tracks)
	}
	return len(removed)
}

// logScanFinished logs the totals of a scan that ran to the end.
func (ix *Index) logScanFinished(st *scanState, removed int, start time.Time) {
	s := ix.Stats()
	meanTag := int64(0)
	if st.read > 0 {
		meanTag = st.tagBytes / int64(st.read)
	}
	ix.log.Info("scan finished",
		zap.Int("files", s.Files), zap.Int("audio", s.Audio), zap.Int("tagged", s.Tagged),
		zap.Int("untagged", s.Failed), zap.Int("read", st.read), zap.Int("removed", removed),
		zap.Int64("tag_bytes_mean", meanTag), zap.Int64("tag_bytes_max", st.maxTagBytes),
		zap.Duration("took", time.Since(start)))
	ix.logUntagged(ix.Tracks())
}

// flush persists the records found since the last flush, then publishes
// the scan's records so far: whatever readers see is already on disk.
func (ix *Index) flush(st *scanState) {
	ix.persist(batch{puts: st.takeDirty(), retry: st.retry})
	ix.publish(st.snapshot())
}
