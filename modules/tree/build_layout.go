package tree

// Finishing a build: distinct names within each directory, then the
// breadth-first layout of the snapshot with its times and inode numbers.

import (
	"cmp"
	"slices"
	"strings"
)

// resolveCollisions gives every entry of a directory a distinct name. Among
// entries that share a name, a directory keeps it, then an entry whose raw
// name is the name itself (so that a correctly spelled file keeps its name
// and inode when a Latin-1 twin appears), then the one that sorts first by
// (origin, relpath); the others get " (2)", " (3)", … (before the
// extension, for files), skipping names already present.
func (b *builder) resolveCollisions() {
	kids, start := b.children()
	for d := range b.nodes {
		if !b.nodes[d].dir() {
			continue
		}
		ks := kids[start[d]:start[d+1]]
		slices.SortFunc(ks, func(x, y int32) int {
			nx, ny := &b.nodes[x], &b.nodes[y]
			return cmp.Or(strings.Compare(nx.name, ny.name), cmpFalseFirst(!nx.dir(), !ny.dir()),
				cmpFalseFirst(nx.altered, ny.altered), cmp.Compare(nx.track, ny.track),
				// Directories under Origins/ were created in the order of
				// their raw paths (tracks are sorted).
				cmp.Compare(x, y))
		})
		clash := false
		for j := 1; j < len(ks) && !clash; j++ {
			clash = b.nodes[ks[j]].name == b.nodes[ks[j-1]].name
		}
		if !clash {
			continue
		}
		taken := make(map[string]bool, len(ks))
		for _, k := range ks {
			taken[b.nodes[k].name] = true
		}
		for j := 0; j < len(ks); {
			name := b.nodes[ks[j]].name
			e := j + 1
			for e < len(ks) && b.nodes[ks[e]].name == name {
				e++
			}
			n := 2
			for _, k := range ks[j+1 : e] {
				for ; ; n++ {
					if c := withSuffix(name, n, !b.nodes[k].dir()); !taken[c] {
						b.nodes[k].name = c
						taken[c] = true
						break
					}
				}
			}
			j = e
		}
		slices.SortFunc(ks, func(x, y int32) int { return strings.Compare(b.nodes[x].name, b.nodes[y].name) })
	}
	b.kids, b.start = kids, start
}

// cmpFalseFirst orders false before true.
func cmpFalseFirst(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// children groups node ids by parent: the children of d are
// kids[start[d]:start[d+1]].
func (b *builder) children() (kids, start []int32) {
	n := len(b.nodes)
	start = make([]int32, n+1)
	for _, bn := range b.nodes[1:] {
		start[bn.parent+1]++
	}
	for i := 1; i <= n; i++ {
		start[i] += start[i-1]
	}
	kids = make([]int32, n-1)
	next := slices.Clone(start[:n])
	for id := 1; id < n; id++ {
		p := b.nodes[id].parent
		kids[next[p]] = int32(id)
		next[p]++
	}
	return kids, start
}

// layout lays the nodes out breadth-first, so that each directory's
// children are one contiguous name-sorted range, then derives directory
// times and inode numbers.
func (b *builder) layout() *Snapshot {
	n := len(b.nodes)
	s := &Snapshot{nodes: make([]Node, n)}
	order := make([]int32, 1, n) // bnode id at each position
	raw := make([]uint64, n)     // path hash at each position
	raw[0] = fnvOffset
	for pos := 0; pos < len(order); pos++ {
		bn := &b.nodes[order[pos]]
		nd := &s.nodes[pos]
		nd.idx, nd.Name, nd.Dir, nd.first = uint32(pos), bn.name, bn.dir(), uint32(len(order))
		if !nd.Dir {
			nd.t = b.tracks[bn.track]
			continue
		}
		for _, k := range b.kids[b.start[order[pos]]:b.start[order[pos]+1]] {
			c := len(order)
			s.nodes[c].parent = uint32(pos)
			raw[c] = childHash(raw[pos], pos == 0, b.nodes[k].name)
			order = append(order, k)
		}
	}
	// Children come after their parent, so one backward pass carries each
	// directory's newest file up.
	for pos := n - 1; pos > 0; pos-- {
		nd, p := &s.nodes[pos], &s.nodes[s.nodes[pos].parent]
		if nd.ModTime().After(p.ModTime()) {
			p.t = nd.t
		}
	}
	s.byIno = assignInos(raw, func(i int) string { return s.Path(&s.nodes[i]) }, fnvSalt)
	for i := range s.nodes {
		s.nodes[i].Ino = raw[i]
	}
	for _, t := range b.tracks {
		if t.Audio {
			s.tracks++
		}
	}
	return s
}
