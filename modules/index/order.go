package index

import (
	"slices"
	"sort"
	"strings"
)

// The run goroutine keeps the records sorted by (Origin, RelPath), the same
// order as the store's keys, so lookups are binary searches and no map of
// every record is needed.

func compareTracks(a, b *Track) int {
	if c := strings.Compare(a.Origin, b.Origin); c != 0 {
		return c
	}
	return strings.Compare(a.RelPath, b.RelPath)
}

// sortedTracks returns ts if it is sorted, else a sorted copy (the snapshots
// published during a scan are not).
func sortedTracks(ts []*Track) []*Track {
	if slices.IsSortedFunc(ts, compareTracks) {
		return ts
	}
	ts = slices.Clone(ts)
	slices.SortFunc(ts, compareTracks)
	return ts
}

// find returns the position of (origin, rel) in sorted ts, or where it would
// be inserted.
func find(ts []*Track, origin, rel string) (int, bool) {
	return slices.BinarySearchFunc(ts, &Track{Origin: origin, RelPath: rel}, compareTracks)
}

// originRange returns the bounds of origin's records in sorted ts.
func originRange(ts []*Track, origin string) (lo, hi int) {
	lo = sort.Search(len(ts), func(i int) bool { return ts[i].Origin >= origin })
	hi = lo + sort.Search(len(ts)-lo, func(i int) bool { return ts[lo+i].Origin > origin })
	return lo, hi
}

// prefixRange returns the bounds of the records whose RelPath starts with
// prefix in ts, which holds one origin's records, sorted.
func prefixRange(ts []*Track, prefix string) (lo, hi int) {
	lo = sort.Search(len(ts), func(i int) bool { return ts[i].RelPath >= prefix })
	hi = lo + sort.Search(len(ts)-lo, func(i int) bool { return !strings.HasPrefix(ts[lo+i].RelPath, prefix) })
	return lo, hi
}

// mergeSorted merges two sorted lists; on equal keys b's record wins.
func mergeSorted(a, b []*Track) []*Track {
	if len(b) == 0 {
		return a
	}
	out := make([]*Track, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch c := compareTracks(a[i], b[j]); {
		case c < 0:
			out = append(out, a[i])
			i++
		case c > 0:
			out = append(out, b[j])
			j++
		default:
			out = append(out, b[j])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// dedupeSorted drops all but the last of equal keys in sorted ts.
func dedupeSorted(ts []*Track) []*Track {
	out := ts[:0]
	for i, t := range ts {
		if i+1 < len(ts) && compareTracks(t, ts[i+1]) == 0 {
			continue
		}
		out = append(out, t)
	}
	return out
}
