package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"runtime/debug"
	"slices"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// requests are the queued asks for work, coalesced until the run goroutine
// takes them.
type requests struct {
	all     bool                           // full scan of every origin
	origins map[string]bool                // full scans of single origins
	paths   map[string]map[string]struct{} // origin → relpaths to refresh
}

// request queues work and wakes the run goroutine; it never blocks.
func (ix *Index) request(f func(*requests)) {
	ix.reqMu.Lock()
	f(&ix.reqs)
	ix.reqMu.Unlock()
	select {
	case ix.wake <- struct{}{}:
	default:
	}
}

func (ix *Index) takeRequests() requests {
	ix.reqMu.Lock()
	defer ix.reqMu.Unlock()
	r := ix.reqs
	ix.reqs = requests{}
	return r
}

// takePaths takes the queued refreshes of paths, leaving the scans queued.
func (ix *Index) takePaths() map[string]map[string]struct{} {
	ix.reqMu.Lock()
	defer ix.reqMu.Unlock()
	p := ix.reqs.paths
	ix.reqs.paths = nil
	return p
}

// queued reports whether requests are waiting.
func (ix *Index) queued() bool {
	ix.reqMu.Lock()
	defer ix.reqMu.Unlock()
	return ix.reqs.all || len(ix.reqs.origins) > 0 || len(ix.reqs.paths) > 0
}

// requeue puts back the scans of r (after a panic), keeping what was queued
// meanwhile.
func (ix *Index) requeue(r requests) {
	ix.request(func(q *requests) {
		q.all = q.all || r.all
		for name := range r.origins {
			addOrigin(q, name)
		}
		for name, ps := range r.paths {
			for p := range ps {
				addPath(q, name, p)
			}
		}
	})
}

func addOrigin(r *requests, name string) {
	if r.origins == nil {
		r.origins = map[string]bool{}
	}
	r.origins[name] = true
}

func addPath(r *requests, origin, p string) {
	if r.paths == nil {
		r.paths = map[string]map[string]struct{}{}
	}
	if r.paths[origin] == nil {
		r.paths[origin] = map[string]struct{}{}
	}
	r.paths[origin][p] = struct{}{}
}

// Rescan asks for a full scan of every origin without waiting for it.
// Requests made while a scan runs are coalesced into one scan after it.
func (ix *Index) Rescan() {
	ix.request(func(r *requests) { r.all = true })
}

// RescanOrigin asks for a full scan of one origin without waiting for it.
func (ix *Index) RescanOrigin(name string) {
	ix.request(func(r *requests) { addOrigin(r, name) })
}

// Refresh asks for the given origin-relative paths (files or directories;
// "." is the whole origin) to be looked at again, without waiting: a file
// new or changed in size or mtime has its tags read, a directory is walked,
// and a path that no longer exists loses its records (everything under it,
// for a directory) unless the origin looks offline. Requests are coalesced
// and applied by the run goroutine, between the batches of a scan in
// progress.
func (ix *Index) Refresh(origin string, paths []string) {
	whole := false
	valid := make([]string, 0, len(paths))
	for _, p := range paths {
		switch p = path.Clean(p); {
		case p == ".":
			whole = true
		case origins.ValidRelPath(p): // not fs.ValidPath: names need not be UTF-8
			valid = append(valid, p)
		default:
			ix.log.Debug("refresh of an invalid path ignored", zap.String("origin", origin), zap.String("relpath", p))
		}
	}
	ix.request(func(r *requests) {
		if whole {
			addOrigin(r, origin)
		}
		for _, p := range valid {
			addPath(r, origin, p)
		}
	})
}

func (ix *Index) supervisedRefresh(ctx context.Context, reqs map[string]map[string]struct{}) {
	defer ix.recoverRefresh()
	ix.refresh(ctx, reqs)
}

func (ix *Index) recoverRefresh() {
	if v := recover(); v != nil {
		ix.m.panics.Inc()
		ix.log.Error("refresh panicked; the next scan catches up", zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
	}
}

// rkey identifies a record without building its store key.
type rkey struct{ origin, rel string }

// refresh applies refresh requests: it stats each path, reads the tags of
// new and changed files, and persists and publishes the result at once.
func (ix *Index) refresh(ctx context.Context, reqs map[string]map[string]struct{}) {
	began := time.Now()
	cur := sortedTracks(ix.Tracks())
	changes := ix.refreshChanges(ctx, cur, ix.retry, reqs)
	if ctx.Err() != nil || len(changes) == 0 {
		return
	}
	next, puts, dels := applyChanges(cur, changes)
	if len(puts) == 0 && len(dels) == 0 {
		return
	}
	for _, t := range dels {
		delete(ix.retry, key(t.Origin, t.RelPath))
	}
	ix.persist(batch{puts: puts, dels: dels, retry: ix.retry})
	ix.publish(next)
	ix.log.Debug("refreshed", zap.Int("updated", len(puts)), zap.Int("removed", len(dels)), zap.Duration("took", time.Since(began)))
}

// refreshDuringScan applies refresh requests in the middle of a scan, from
// its collector: against the scan's records so far, into its state, so a
// change shows at once instead of after a scan that can take minutes, and
// the end of the scan does not undo it.
func (ix *Index) refreshDuringScan(ctx context.Context, st *scanState, reqs map[string]map[string]struct{}) {
	defer ix.recoverRefresh()
	began := time.Now()
	cur := st.current()
	changes := ix.refreshChanges(ctx, cur, st.retry, reqs)
	if ctx.Err() != nil || len(changes) == 0 {
		return
	}
	_, puts, dels := applyChanges(cur, changes)
	if len(puts) == 0 && len(dels) == 0 {
		return
	}
	for _, t := range dels {
		delete(st.retry, key(t.Origin, t.RelPath))
	}
	// The walk's records first: written after, one of them could undo a
	// deletion below.
	ix.persist(batch{puts: st.takeDirty(), retry: st.retry})
	ix.persist(batch{puts: puts, dels: dels, retry: st.retry})
	st.addRefreshed(puts, dels, began)
	ix.publish(st.snapshot())
	ix.log.Debug("refreshed during a scan", zap.Int("updated", len(puts)), zap.Int("removed", len(dels)), zap.Duration("took", time.Since(began)))
}

// refreshChanges looks at the requested paths against cur (the current
// records, sorted) and returns what changed (nil: deleted). retry is the
// set of keys to read again; it is updated for the files read.
func (ix *Index) refreshChanges(ctx context.Context, cur []*Track, retry map[string]struct{}, reqs map[string]map[string]struct{}) map[rkey]*Track {
	changes := map[rkey]*Track{} // nil: delete
	var jobs []job
	for _, name := range slices.Sorted(maps.Keys(reqs)) {
		o, ok := ix.origins.Get(name)
		if !ok {
			ix.log.Debug("refresh of an unknown origin ignored", zap.String("origin", name))
			continue
		}
		lo, hi := originRange(cur, name)
		h := ix.checkOrigin(ctx, o, hi-lo, ix.meta[name])
		if ctx.Err() != nil {
			return nil
		}
		if !h.ok {
			ix.setOffline(name, h.reason, hi-lo)
			continue
		}
		if ix.isOffline(name) {
			// Back from offline: what changed meanwhile is unknown.
			ix.RescanOrigin(name)
			continue
		}
		jobs = append(jobs, ix.refreshOrigin(ctx, o, cur[lo:hi], retry, slices.Sorted(maps.Keys(reqs[name])), changes)...)
	}
	for _, r := range ix.readAll(ctx, jobs) {
		k := key(r.t.Origin, r.t.RelPath)
		delete(retry, k)
		if r.retry {
			retry[k] = struct{}{}
		}
		ix.in.track(r.t)
		changes[rkey{r.t.Origin, r.t.RelPath}] = r.t
	}
	return changes
}

// refreshOrigin records in changes what the paths of one healthy origin
// say, and returns the files whose tags must be read. recs are the origin's
// current records, sorted. Each stat is bounded by the read timeout: after
// the first that times out the origin is treated as offline (its records
// kept, the rest of its paths left to the rescan that follows its return).
func (ix *Index) refreshOrigin(ctx context.Context, o origins.Origin, recs []*Track, retry map[string]struct{}, paths []string, changes map[rkey]*Track) []job {
	name := o.Name()
	var jobs []job
	consider := func(e origins.Entry) {
		if i, found := find(recs, name, e.RelPath); found {
			p := recs[i]
			_, again := retry[key(name, e.RelPath)]
			if p.Size == e.Size && p.ModTime.Equal(e.ModTime) && !again {
				delete(changes, rkey{name, e.RelPath}) // an earlier path's deletion was wrong
				return
			}
		}
		jobs = append(jobs, job{o: o, e: e})
	}
	remove := func(ts []*Track) {
		for _, t := range ts {
			changes[rkey{name, t.RelPath}] = nil
		}
	}
	under := func(dir string) []*Track {
		lo, hi := prefixRange(recs, dir+"/")
		return recs[lo:hi]
	}
	exact := func(rel string) []*Track {
		if i, found := find(recs, name, rel); found {
			return recs[i : i+1]
		}
		return nil
	}
	for _, p := range paths {
		if ctx.Err() != nil {
			return jobs
		}
		// Stop interrupts a refresh stuck on a hung NAS.
		sctx, cancel := origins.WithTimeout(ctx, ix.cfg.ReadTimeout)
		fi, err := o.Stat(sctx, p)
		cancel()
		switch {
		case ctx.Err() != nil:
			return jobs
		case errors.Is(err, origins.ErrTimeout):
			ix.setOffline(name, fmt.Sprintf("refresh: stat %s: %v", p, err), len(recs))
			return jobs
		case err == nil && fi.Mode().IsRegular():
			remove(under(p)) // was a directory
			consider(origins.Entry{RelPath: p, Size: fi.Size(), ModTime: fi.ModTime()})
		case err == nil && fi.IsDir():
			remove(exact(p)) // was a file
			seen := map[string]bool{}
			out := ix.walkDir(ctx, o, p, func(e origins.Entry) {
				seen[e.RelPath] = true
				consider(e)
			})
			for _, t := range under(p) {
				if !seen[t.RelPath] && !out.keeps(t.RelPath) {
					changes[rkey{name, t.RelPath}] = nil
				}
			}
		case err == nil:
			remove(exact(p)) // neither file nor directory: not listed
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
			remove(exact(p))
			remove(under(p))
		default:
			ix.log.Info("refresh: path not readable, its records kept", zap.String("origin", name), zap.String("relpath", p), zap.Error(err))
		}
	}
	return jobs
}

// walkDir calls fn for every file under dir and reports how the walk ended
// (which unseen records stay).
func (ix *Index) walkDir(ctx context.Context, o origins.Origin, dir string, fn func(origins.Entry)) outcome {
	err := o.WalkDir(ctx, dir, func(e origins.Entry) error {
		fn(e)
		return nil
	})
	if ctx.Err() != nil {
		return outcome{}
	}
	out := walkOutcome(err, 0)
	if err != nil {
		ix.log.Info("refresh: directory walk incomplete, keeping records it did not see",
			zap.String("origin", o.Name()), zap.String("dir", dir), zap.Error(err))
	}
	return out
}

// readAll reads the tags of jobs, cfg.Workers at a time.
func (ix *Index) readAll(ctx context.Context, jobs []job) []result {
	out := make([]result, len(jobs))
	sem := make(chan struct{}, ix.cfg.Workers)
	var wg sync.WaitGroup
	for i, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			out[i] = ix.readTrack(ctx, j.o, j.e)
		})
	}
	wg.Wait()
	return out
}

// applyChanges returns cur (sorted) with changes applied (nil: delete), and
// the records put and deleted. It costs binary searches and one copy.
func applyChanges(cur []*Track, changes map[rkey]*Track) (next, puts, dels []*Track) {
	type edit struct {
		i int
		t *Track
	}
	var edits []edit
	var added []*Track
	for k, t := range changes {
		i, found := find(cur, k.origin, k.rel)
		switch {
		case found && t == nil:
			dels = append(dels, cur[i])
			edits = append(edits, edit{i, nil})
		case found:
			if cur[i] != t {
				puts = append(puts, t)
				edits = append(edits, edit{i, t})
			}
		case t != nil:
			puts = append(puts, t)
			added = append(added, t)
		}
	}
	slices.SortFunc(edits, func(a, b edit) int { return a.i - b.i })
	next = make([]*Track, 0, len(cur)-len(dels))
	last := 0
	for _, e := range edits {
		next = append(next, cur[last:e.i]...)
		if e.t != nil {
			next = append(next, e.t)
		}
		last = e.i + 1
	}
	next = append(next, cur[last:]...)
	slices.SortFunc(added, compareTracks)
	return mergeSorted(next, added), puts, dels
}
