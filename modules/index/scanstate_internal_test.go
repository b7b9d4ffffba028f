package index

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// Records found by a refresh during a scan stand against older walk
// results, yield to newer ones, and are never dropped as unseen.
func TestScanStateRefreshed(t *testing.T) {
	rec := func(rel string, size int64) *Track { return &Track{Origin: "lib", RelPath: rel, Size: size} }
	t0 := time.Now()
	t1, t2 := t0.Add(time.Second), t0.Add(2*time.Second)
	a, b, d := rec("a", 1), rec("b", 1), rec("d", 1)
	tests := []struct {
		name    string
		results []result
		want    []string // rel:size of the final records
		dirty   []string
		removed []string
	}{
		{"older walk results", []result{{t: a, idx: 0, at: t0}, {t: b, idx: 1, at: t0}},
			[]string{"a:2", "c:1"}, nil, []string{"d:1"}},
		{"newer walk results", []result{{t: a, idx: 0, at: t2}, {t: b, idx: 1, at: t2}},
			[]string{"a:1", "b:1", "c:1"}, []string{"a:1", "b:1"}, []string{"d:1"}},
		{"no walk results", nil,
			[]string{"a:2", "c:1"}, nil, []string{"d:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := newScanState([]*Track{a, b, d}, map[string]struct{}{}, newInterner(0))
			// A refresh at t1: a changed, b deleted, c new.
			st.addRefreshed([]*Track{rec("a", 2), rec("c", 1)}, []*Track{b}, t1)
			for _, r := range tt.results {
				st.apply(r)
			}
			tracks, removed := st.finish(func(*Track) bool { return false })
			if got := sizes(tracks); !slices.Equal(got, tt.want) {
				t.Errorf("records %v, want %v", got, tt.want)
			}
			if got := sizes(st.takeDirty()); !slices.Equal(got, tt.dirty) {
				t.Errorf("to write %v, want %v", got, tt.dirty)
			}
			if got := sizes(removed); !slices.Equal(got, tt.removed) {
				t.Errorf("removed %v, want %v", got, tt.removed)
			}
		})
	}
}

func sizes(ts []*Track) []string {
	var out []string
	for _, t := range ts {
		out = append(out, fmt.Sprintf("%s:%d", t.RelPath, t.Size))
	}
	return out
}
