package index

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dhowden/tag"
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

var errFileTimeout = errors.New("tag reading timed out")

func key(origin, relpath string) string { return origin + "\x00" + relpath }

// job is a file whose tags must be read.
type job struct {
	o origins.Origin
	e origins.Entry
}

// result is one file's record, new or carried over from the last scan.
type result struct {
	t      *Track
	reread bool // tags were read (or tried) in this scan
	retry  bool // the read failed because of the origin: try again next scan
}

// outcome is how one origin's walk ended.
type outcome struct {
	complete bool // walked to the end without error: unseen files are gone
}

// scan walks every origin once and publishes the result; it reports whether
// it ran to the end (false when ctx was cancelled). Files whose size and
// mtime did not change keep their record. Files not seen are removed only
// for origins that are online and whose walk completed: an origin that is
// offline or failed mid-walk keeps its records.
func (ix *Index) scan(ctx context.Context) bool {
	start := time.Now()
	list := ix.origins.List()
	prev := ix.Tracks()
	st := newScanState(prev, ix.retry)
	retry := ix.retry // read-only for this scan's producer

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
				select {
				case results <- ix.readTrack(ctx, j.o, j.e):
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
			outcomes[o.Name()] = ix.walkOrigin(ctx, o, retry, st.prev, jobs, results)
		}
	})

	ticker := time.NewTicker(publishInterval)
	defer ticker.Stop()
	files, lastProgress := 0, start
	for done := false; !done; {
		select {
		case r, ok := <-results:
			if !ok {
				done = true
				break
			}
			st.apply(r)
			files++
			if st.pending >= publishEvery {
				ix.publish(st.snapshot())
			}
		case now := <-ticker.C:
			if st.pending > 0 {
				ix.publish(st.snapshot())
			}
			if now.Sub(lastProgress) >= progressInterval {
				lastProgress = now
				elapsed := now.Sub(start)
				ix.log.Info("scanning", zap.Int("files", files), zap.Int("tags_read", st.read),
					zap.Float64("files_per_second", float64(files)/elapsed.Seconds()), zap.Duration("elapsed", elapsed.Round(time.Second)))
			}
		}
	}
	if ctx.Err() != nil {
		return false
	}

	configured := map[string]bool{}
	for _, o := range list {
		configured[o.Name()] = true
	}
	removed := st.removeUnseen(func(origin string) bool {
		// Unseen records stay unless their origin was walked completely,
		// or is no longer configured at all.
		return configured[origin] && !outcomes[origin].complete
	})
	ix.retry = st.retry
	if st.changed {
		tracks := st.snapshot()
		slices.SortFunc(tracks, func(a, b *Track) int {
			if c := strings.Compare(a.Origin, b.Origin); c != 0 {
				return c
			}
			return strings.Compare(a.RelPath, b.RelPath)
		})
		ix.publish(tracks)
	}
	s := ix.Stats()
	ix.log.Info("scan finished",
		zap.Int("files", s.Files), zap.Int("audio", s.Audio), zap.Int("tagged", s.Tagged),
		zap.Int("untagged", s.Failed), zap.Int("read", st.read), zap.Int("removed", removed),
		zap.Duration("took", time.Since(start)))
	return true
}

// walkOrigin walks one origin, sending unchanged files straight to results
// and the rest to the tag readers. A panic in the origin is contained.
func (ix *Index) walkOrigin(ctx context.Context, o origins.Origin, retry map[string]struct{},
	prev map[string]*Track, jobs chan<- job, results chan<- result) (out outcome) {
	name := o.Name()
	log := ix.log.With(zap.String("origin", name))
	defer func() {
		if v := recover(); v != nil {
			ix.m.panics.Inc()
			log.Error("origin walk panicked; keeping its tracks", zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			out = outcome{}
		}
	}()
	if c, ok := o.(origins.Checker); ok {
		c.Check(ctx)
	}
	if !o.Online() {
		log.Info("origin offline: keeping its tracks, not walking it")
		return outcome{}
	}
	err := o.Walk(ctx, func(e origins.Entry) error {
		ix.m.files.Inc()
		k := key(name, e.RelPath)
		var send chan<- result
		var r result
		var j job
		if p := prev[k]; p != nil && p.Size == e.Size && p.ModTime.Equal(e.ModTime) {
			if _, again := retry[k]; !again {
				send, r = results, result{t: p}
			}
		}
		var sendJob chan<- job
		if send == nil {
			sendJob, j = jobs, job{o: o, e: e}
		}
		select {
		case send <- r:
		case sendJob <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	switch {
	case err == nil:
		return outcome{complete: true}
	case ctx.Err() != nil:
	case errors.Is(err, origins.ErrOffline):
		log.Info("origin offline: keeping its tracks", zap.Error(err))
	default:
		ix.m.errors.Inc()
		log.Warn("origin walk incomplete: keeping tracks it did not see", zap.Error(err))
	}
	return outcome{}
}

// readTrack builds the record of one file, reading its tags if it is audio.
// The read runs in a goroutine of its own so that a read blocked in the
// origin cannot hold a worker past the per-file timeout; once abandoned it
// stops at its next read (its context is cancelled) and ends when the
// blocked origin read returns.
func (ix *Index) readTrack(ctx context.Context, o origins.Origin, e origins.Entry) result {
	t := &Track{Origin: o.Name(), RelPath: e.RelPath, Size: e.Size, ModTime: e.ModTime, Audio: IsAudio(e.RelPath)}
	if !t.Audio {
		return result{t: t}
	}
	ctx, cancel := context.WithTimeout(ctx, ix.cfg.FileTimeout)
	defer cancel()
	type read struct {
		tags tags
		err  error
	}
	done := make(chan read, 1) // buffered: an abandoned reader must not block
	ix.readers.Add(1)
	go func() {
		defer ix.readers.Add(-1)
		tg, err := readFileTags(ctx, o, e.RelPath, e.Size)
		done <- read{tg, err}
	}()
	var rd read
	select {
	case rd = <-done:
	case <-ctx.Done():
		rd.err = ctx.Err()
	}
	if errors.Is(rd.err, context.DeadlineExceeded) {
		rd.err = fmt.Errorf("no result within %s: %w", ix.cfg.FileTimeout, errFileTimeout)
	}

	res := result{t: t, reread: true}
	log := ix.log.With(zap.String("origin", t.Origin), zap.String("relpath", t.RelPath))
	var pe *panicError
	var ioe *ioError
	switch err := rd.err; {
	case err == nil:
		tg := rd.tags
		t.Tagged = true
		t.Title, t.Artist, t.AlbumArtist, t.Album, t.Genre = tg.title, tg.artist, tg.albumArtist, tg.album, tg.genre
		t.Year, t.Track, t.Disc, t.DiscTotal = tg.year, tg.track, tg.disc, tg.discTotal
	case errors.As(err, &pe):
		ix.m.panics.Inc()
		log.Error("tag reader panicked; file listed untagged",
			zap.String("panic", fmt.Sprint(pe.value)), zap.ByteString("stack", pe.stack))
	case errors.Is(err, context.Canceled): // shutdown: nothing to say
		res.retry = true
	case errors.Is(err, errFileTimeout), errors.As(err, &ioe):
		ix.m.errors.Inc()
		res.retry = true
		log.Warn("tags not read; file listed untagged, read again next scan", zap.Error(err))
	case errors.Is(err, tag.ErrNoTagsFound):
		log.Debug("no tags found")
	default:
		ix.m.errors.Inc()
		log.Debug("malformed tags; file listed untagged", zap.Error(err))
	}
	return res
}

// scanState is the collector's view of the records during one scan. It is
// owned by the scan goroutine; published slices are copies of list.
type scanState struct {
	prev    map[string]*Track // the last scan's records by key (read-only)
	list    []*Track
	seen    []bool // parallel to list: found in this scan
	pos     map[string]int
	retry   map[string]struct{}
	changed bool // anything differs from prev
	pending int  // changes since the last publish
	read    int  // files whose tags were read
}

func newScanState(prev []*Track, retry map[string]struct{}) *scanState {
	st := &scanState{
		prev:  make(map[string]*Track, len(prev)),
		list:  slices.Clone(prev),
		seen:  make([]bool, len(prev)),
		pos:   make(map[string]int, len(prev)),
		retry: make(map[string]struct{}, len(retry)),
	}
	for i, t := range prev {
		k := key(t.Origin, t.RelPath)
		st.prev[k] = t
		st.pos[k] = i
	}
	for k := range retry {
		st.retry[k] = struct{}{}
	}
	return st
}

func (st *scanState) apply(r result) {
	k := key(r.t.Origin, r.t.RelPath)
	if r.reread {
		st.read++
		delete(st.retry, k)
		if r.retry {
			st.retry[k] = struct{}{}
		}
	}
	i, ok := st.pos[k]
	switch {
	case !ok:
		st.pos[k] = len(st.list)
		st.list = append(st.list, r.t)
		st.seen = append(st.seen, true)
	case st.list[i] == r.t:
		st.seen[i] = true
		return
	default:
		st.list[i] = r.t
		st.seen[i] = true
	}
	st.changed = true
	st.pending++
}

// removeUnseen drops the records not seen in this scan unless keep says
// their origin keeps them, and returns how many it dropped.
func (st *scanState) removeUnseen(keep func(origin string) bool) int {
	n := 0
	list := st.list[:0:0]
	for i, t := range st.list {
		if st.seen[i] || keep(t.Origin) {
			list = append(list, t)
			continue
		}
		delete(st.retry, key(t.Origin, t.RelPath))
		n++
	}
	if n > 0 {
		st.list = list
		st.changed = true
	}
	return n
}

// snapshot returns a copy of the records for publishing.
func (st *scanState) snapshot() []*Track {
	st.pending = 0
	return slices.Clone(st.list)
}
