package index

import (
	"maps"
	"slices"
	"time"
)

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
