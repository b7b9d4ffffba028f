package index

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/internal/bounded"
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

var errFileTimeout = errors.New("tag reading timed out")

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

// outcome is how one origin's walk ended.
type outcome struct {
	// walked: the root was healthy and the walk reached its end, so the
	// origin is online and the files it did not see are gone, except under
	// skipped, or all of them when unknown.
	walked  bool
	unknown bool   // the walk skipped directories without naming them
	skipped dirSet // directories the walk could not read
	files   int    // files the walk listed
	health  health
}

// keeps reports whether an unseen record at rel stays after the walk.
func (o outcome) keeps(rel string) bool {
	return !o.walked || o.unknown || o.skipped.holds(rel)
}

// walkOutcome classifies the error of a walk that listed files files. An
// *origins.IncompleteError names the directories it skipped; a bare
// origins.ErrIncomplete does not, so every unseen record stays.
func walkOutcome(err error, files int) outcome {
	var ie *origins.IncompleteError
	switch {
	case err == nil:
		return outcome{walked: true, files: files}
	case errors.As(err, &ie):
		return outcome{walked: true, skipped: newDirSet(ie.Skipped), files: files}
	case errors.Is(err, origins.ErrIncomplete):
		return outcome{walked: true, unknown: true, files: files}
	}
	return outcome{files: files}
}

// dirSet is a set of origin-relative directories.
type dirSet map[string]struct{}

func newDirSet(dirs []string) dirSet {
	if len(dirs) == 0 {
		return nil
	}
	s := make(dirSet, len(dirs))
	for _, d := range dirs {
		s[d] = struct{}{}
	}
	return s
}

// holds reports whether rel is under one of the directories: one lookup
// per parent of rel.
func (s dirSet) holds(rel string) bool {
	if len(s) == 0 {
		return false
	}
	if _, ok := s["."]; ok {
		return true
	}
	for i := range len(rel) {
		if rel[i] == '/' {
			if _, ok := s[rel[:i]]; ok {
				return true
			}
		}
	}
	return false
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
			name := o.Name()
			lo, hi := originRange(prev, name)
			h := ix.checkOrigin(ctx, o, hi-lo, meta[name])
			if !h.ok {
				if ctx.Err() == nil {
					ix.setOffline(name, h.reason, hi-lo)
				}
				outcomes[name] = outcome{}
				continue
			}
			out := ix.walkOrigin(ctx, o, retry, prev[lo:hi], lo, jobs, results)
			out.health = h
			if out.walked && out.files == 0 && hi > lo {
				// Emptied between the check and the walk: same rule.
				ix.setOffline(name, fmt.Sprintf("walk found no files but the index holds %d from it", hi-lo), hi-lo)
				out.walked = false
			}
			outcomes[name] = out
		}
	})

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
	if ctx.Err() != nil {
		// Keep what was found: the next scan goes on from there.
		ix.persist(batch{puts: st.takeDirty(), retry: st.retry})
		return false
	}

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
	s := ix.Stats()
	meanTag := int64(0)
	if st.read > 0 {
		meanTag = st.tagBytes / int64(st.read)
	}
	ix.log.Info("scan finished",
		zap.Int("files", s.Files), zap.Int("audio", s.Audio), zap.Int("tagged", s.Tagged),
		zap.Int("untagged", s.Failed), zap.Int("read", st.read), zap.Int("removed", len(removed)),
		zap.Int64("tag_bytes_mean", meanTag), zap.Int64("tag_bytes_max", st.maxTagBytes),
		zap.Duration("took", time.Since(start)))
	ix.logUntagged(ix.Tracks())
	return true
}

// flush persists the records found since the last flush, then publishes
// the scan's records so far: whatever readers see is already on disk.
func (ix *Index) flush(st *scanState) {
	ix.persist(batch{puts: st.takeDirty(), retry: st.retry})
	ix.publish(st.snapshot())
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

// walkOrigin walks one origin, sending unchanged files straight to results
// and the rest to the tag readers. prev holds the origin's records (sorted),
// which start at base in the scan's list. A panic in the origin is
// contained.
func (ix *Index) walkOrigin(ctx context.Context, o origins.Origin, retry map[string]struct{},
	prev []*Track, base int, jobs chan<- job, results chan<- result) (out outcome) {
	name := o.Name()
	log := ix.log.With(zap.String("origin", name))
	defer func() {
		if v := recover(); v != nil {
			ix.m.panics.Inc()
			log.Error("origin walk panicked; keeping its tracks", zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			out = outcome{}
		}
	}()
	files := 0
	err := o.Walk(ctx, func(e origins.Entry) error {
		ix.m.files.Inc()
		files++
		var send chan<- result
		var r result
		j := job{o: o, e: e, idx: -1, at: time.Now()}
		i, found := slices.BinarySearchFunc(prev, e.RelPath, func(t *Track, rel string) int { return strings.Compare(t.RelPath, rel) })
		if found {
			j.idx = base + i
			if p := prev[i]; p.Size == e.Size && p.ModTime.Equal(e.ModTime) {
				again := false
				if len(retry) > 0 { // no key to build in the usual case
					_, again = retry[key(name, e.RelPath)]
				}
				if !again {
					send, r = results, result{t: p, idx: j.idx, at: j.at}
				}
			}
		}
		var sendJob chan<- job
		if send == nil {
			sendJob = jobs
		}
		select {
		case send <- r:
		case sendJob <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	out = walkOutcome(err, files)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return outcome{files: files}
	case errors.Is(err, origins.ErrOffline):
		log.Info("origin offline: keeping its tracks", zap.Error(err))
	case out.walked && !out.unknown:
		// The origin warns about each unreadable directory itself.
		ix.m.errors.Inc()
		log.Info("origin walk incomplete: keeping the tracks under the directories it skipped", zap.Error(err))
	default:
		ix.m.errors.Inc()
		log.Warn("origin walk incomplete: keeping tracks it did not see", zap.Error(err))
	}
	return out
}

// readTrack builds the record of one file, reading its tags if it is audio,
// within the per-file timeout: the origin's calls return when ctx ends, and
// every read of the tag readers checks it. A panic (from the origin or a
// tag reader) lists the file untagged.
func (ix *Index) readTrack(ctx context.Context, o origins.Origin, e origins.Entry) result {
	t := &Track{Origin: o.Name(), RelPath: e.RelPath, Size: e.Size, ModTime: e.ModTime, Audio: IsAudio(e.RelPath)}
	if !t.Audio {
		return result{t: t}
	}
	ctx, cancel := context.WithTimeout(ctx, ix.cfg.FileTimeout)
	defer cancel()
	tg, n, err := readFileTagsSafely(ctx, o, e.RelPath, e.Size)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no result within %s: %w", ix.cfg.FileTimeout, errFileTimeout)
	}
	res := result{t: t, reread: true, bytes: n}
	var pe *bounded.PanicError
	var ioe *ioError
	switch {
	case err == nil:
		fill(t, tg)
		return res
	case errors.Is(err, context.Canceled): // shutdown: nothing to say
		res.retry = true
		return res
	case errors.As(err, &pe):
		ix.m.panics.Inc()
		t.Untagged = ReasonPanic
		ix.log.Error("tag reader panicked; file listed untagged", zap.String("origin", t.Origin),
			zap.String("relpath", t.RelPath), zap.String("panic", fmt.Sprint(pe.Value)), zap.ByteString("stack", pe.Stack))
		return res
	case errors.Is(err, errFileTimeout):
		t.Untagged, res.retry = ReasonTimeout, true
	case errors.As(err, &ioe):
		t.Untagged, res.retry = ReasonIO, true
	default:
		t.Untagged = reasonOf(err)
	}
	// A file without tags, or of a format that has none, is not an error.
	switch t.Untagged {
	case ReasonNoTags, ReasonNoReader, ReasonUnknown:
	default:
		ix.m.errors.Inc()
	}
	ix.untaggedLog.Info("tags not read; file listed under Unknown", zap.String("origin", t.Origin),
		zap.String("relpath", t.RelPath), zap.Stringer("reason", t.Untagged), zap.Bool("read_again", res.retry), zap.Error(err))
	return res
}

// scanState is the collector's view of the records during one scan. It is
// owned by the scan goroutine; published slices are copies of its lists.
type scanState struct {
	list    []*Track // the last records (sorted) with this scan's replacements
	seen    []bool   // parallel to list: found in this scan
	added   []*Track // files new in this scan
	dirty   []*Track // new or replaced records not yet persisted
	retry   map[string]struct{}
	in      interner
	changed bool // anything differs from the last records
	pending int  // changes since the last publish
	read    int  // files whose tags were read
	// tagBytes and maxTagBytes: bytes read to find the tags of those files.
	tagBytes, maxTagBytes int64
	// refreshed holds what refreshes applied during the scan found (nil
	// record: deleted), already persisted. It overrides list and added
	// until a walk result newer than the refresh replaces it.
	refreshed map[rkey]refreshed
}

type refreshed struct {
	t  *Track    // nil: deleted
	at time.Time // when the refresh began
}

func newScanState(prev []*Track, retry map[string]struct{}, in interner) *scanState {
	return &scanState{
		list:  slices.Clone(prev),
		seen:  make([]bool, len(prev)),
		retry: maps.Clone(retry),
		in:    in,
	}
}

func (st *scanState) apply(r result) {
	replace := false // the record must be written even if unchanged
	if len(st.refreshed) > 0 {
		k := rkey{r.t.Origin, r.t.RelPath}
		if f, ok := st.refreshed[k]; ok {
			if f.at.After(r.at) {
				return // the refresh looked after the walk did: its record stands
			}
			delete(st.refreshed, k)
			replace = true // the store holds the refresh's record
		}
	}
	if r.reread {
		k := key(r.t.Origin, r.t.RelPath)
		st.read++
		st.tagBytes += r.bytes
		st.maxTagBytes = max(st.maxTagBytes, r.bytes)
		delete(st.retry, k)
		if r.retry {
			st.retry[k] = struct{}{}
		}
		st.in.track(r.t)
	}
	switch {
	case r.idx < 0:
		st.added = append(st.added, r.t)
	case st.list[r.idx] == r.t && !replace:
		st.seen[r.idx] = true
		return
	default:
		st.list[r.idx] = r.t
		st.seen[r.idx] = true
	}
	st.dirty = append(st.dirty, r.t)
	st.changed = true
	st.pending++
}

// addRefreshed records the changes a refresh that began at at made: puts
// and dels, both already persisted.
func (st *scanState) addRefreshed(puts, dels []*Track, at time.Time) {
	if st.refreshed == nil {
		st.refreshed = map[rkey]refreshed{}
	}
	for _, t := range puts {
		st.refreshed[rkey{t.Origin, t.RelPath}] = refreshed{t: t, at: at}
	}
	for _, t := range dels {
		st.refreshed[rkey{t.Origin, t.RelPath}] = refreshed{at: at}
	}
	st.changed = true
}

// withRefreshed returns sorted ts with the refreshed records applied.
func (st *scanState) withRefreshed(ts []*Track) []*Track {
	if len(st.refreshed) == 0 {
		return ts
	}
	changes := make(map[rkey]*Track, len(st.refreshed))
	for k, f := range st.refreshed {
		changes[k] = f.t
	}
	next, _, _ := applyChanges(ts, changes)
	return next
}

// current returns the scan's records so far, sorted. The result may share
// st.list: it must not be modified.
func (st *scanState) current() []*Track {
	added := slices.Clone(st.added)
	slices.SortFunc(added, compareTracks)
	return st.withRefreshed(mergeSorted(st.list, dedupeSorted(added)))
}

// finish drops the records not seen in this scan (nor by a refresh during
// it) unless keep says they stay, and returns the final sorted records and
// the dropped.
func (st *scanState) finish(keep func(*Track) bool) (tracks, removed []*Track) {
	kept := st.list[:0:0]
	for i, t := range st.list {
		if st.seen[i] || keep(t) {
			kept = append(kept, t)
			continue
		}
		if _, ok := st.refreshed[rkey{t.Origin, t.RelPath}]; ok {
			kept = append(kept, t) // withRefreshed decides
			continue
		}
		delete(st.retry, key(t.Origin, t.RelPath))
		removed = append(removed, t)
	}
	if len(removed) > 0 {
		st.changed = true
	}
	slices.SortFunc(st.added, compareTracks)
	return st.withRefreshed(mergeSorted(kept, dedupeSorted(st.added))), removed
}

// takeDirty returns the records to persist and forgets them.
func (st *scanState) takeDirty() []*Track {
	d := st.dirty
	st.dirty = nil
	return d
}

// snapshot returns a copy of the records for publishing.
func (st *scanState) snapshot() []*Track {
	st.pending = 0
	if len(st.refreshed) > 0 {
		return st.current() // a new slice: applying the refreshed records copies
	}
	out := make([]*Track, 0, len(st.list)+len(st.added))
	return append(append(out, st.list...), st.added...)
}

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
