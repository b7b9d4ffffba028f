package tree

import (
	"slices"
	"strings"
)

// Inode numbers are the 64-bit FNV-1a hash of the virtual path ("Artists",
// "Artists/X/…"): fixed, so identical in every process and every build.
// FNV-1a is a byte-at-a-time fold, so a child's hash continues from its
// parent's with "/" + name and no path is ever materialised.
const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// childHash is the raw hash of a child of a node whose raw hash is parent.
func childHash(parent uint64, parentIsRoot bool, name string) uint64 {
	if !parentIsRoot {
		parent = fnvString(parent, "/")
	}
	return fnvString(parent, name)
}

// fnvSalt derives the k-th alternative for a path whose hash is taken.
func fnvSalt(h, k uint64) uint64 {
	h *= fnvPrime // fold a NUL byte first: no path element contains one
	for range 8 {
		h ^= k & 0xff
		h *= fnvPrime
		k >>= 8
	}
	return h
}

// inoTable finds a node by inode number: open addressing with linear
// probing, each slot a node position + 1 (0 is free). Inode numbers are
// hashes already, so their top bits pick the first slot. At 2/3 full it
// costs 6 bytes per node, half a sorted index, and about two probes.
type inoTable []uint32

func newInoTable(n int) inoTable { return make(inoTable, n+n/2+1) }

// find returns the slot of the node whose inode number is ino, or the free
// slot where it would go; keyAt gives the inode number at a node position.
func (t inoTable) find(ino uint64, keyAt func(pos int) uint64) (slot int, pos int, found bool) {
	i := int((ino >> 32) * uint64(len(t)) >> 32)
	for {
		p := t[i]
		if p == 0 {
			return i, -1, false
		}
		if keyAt(int(p-1)) == ino {
			return i, int(p - 1), true
		}
		if i++; i == len(t) {
			i = 0
		}
	}
}

// assignInos turns the raw path hashes in inos (index 0 is the root) into
// unique inode numbers in place and returns the table that finds the other
// nodes by them. Paths whose hash is 0 or 1 (reserved), and all but the
// first by path of paths sharing a hash, are rehashed with salt 1, 2, …
// until free; they are handled in path order, so the result depends only on
// the set of paths.
func assignInos(inos []uint64, pathOf func(int) string, salt func(h, k uint64) uint64) inoTable {
	inos[0] = RootIno
	t := newInoTable(len(inos))
	keyAt := func(pos int) uint64 { return inos[pos] }
	var redo []int
	for i := 1; i < len(inos); i++ {
		if inos[i] <= RootIno {
			redo = append(redo, i)
			continue
		}
		slot, j, taken := t.find(inos[i], keyAt)
		switch {
		case !taken:
			t[slot] = uint32(i + 1)
		case pathOf(i) < pathOf(j): // Rare: at 100k paths a 64-bit collision has odds of about 1 in 10^9.
			t[slot] = uint32(i + 1)
			redo = append(redo, j)
		default:
			redo = append(redo, i)
		}
	}
	if len(redo) == 0 {
		return t
	}

	paths := make(map[int]string, len(redo))
	for _, i := range redo {
		paths[i] = pathOf(i)
	}
	slices.SortFunc(redo, func(a, b int) int { return strings.Compare(paths[a], paths[b]) })
	// A candidate is free unless reserved or in the table: every raw hash
	// above RootIno is there (its first path keeps it), and so is every
	// rehash made so far.
	for _, i := range redo {
		for k := uint64(1); ; k++ {
			c := salt(inos[i], k)
			if c <= RootIno {
				continue
			}
			if slot, _, taken := t.find(c, keyAt); !taken {
				inos[i] = c
				t[slot] = uint32(i + 1)
				break
			}
		}
	}
	return t
}
