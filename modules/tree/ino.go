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

// assignInos turns the raw path hashes in inos (index 0 is the root) into
// unique inode numbers in place and returns them sorted, with the index of
// each in inos. Paths whose hash is 0 or 1 (reserved), and all but the first
// by path of paths sharing a hash, are rehashed with salt 1, 2, … until
// free; they are handled in path order, so the result depends only on the
// set of paths.
func assignInos(inos []uint64, pathOf func(int) string, salt func(h, k uint64) uint64) (sorted []uint64, idx []uint32) {
	inos[0] = RootIno
	sorted, idx = sortInos(inos)

	var redo []int
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		group := idx[i:j]
		ino := sorted[i]
		i = j
		if ino <= RootIno {
			for _, k := range group {
				if k != 0 {
					redo = append(redo, int(k))
				}
			}
			continue
		}
		if len(group) == 1 {
			continue
		}
		keep := slices.MinFunc(group, func(a, b uint32) int {
			return strings.Compare(pathOf(int(a)), pathOf(int(b)))
		})
		for _, k := range group {
			if k != keep {
				redo = append(redo, int(k))
			}
		}
	}
	if len(redo) == 0 {
		return sorted, idx
	}

	// Rare: at 100k paths a 64-bit collision has odds of about 1 in 10^9.
	used := make(map[uint64]bool, len(inos))
	for _, h := range inos {
		used[h] = true
	}
	paths := make(map[int]string, len(redo))
	for _, i := range redo {
		paths[i] = pathOf(i)
	}
	slices.SortFunc(redo, func(a, b int) int { return strings.Compare(paths[a], paths[b]) })
	for _, i := range redo {
		for k := uint64(1); ; k++ {
			if c := salt(inos[i], k); c > RootIno && !used[c] {
				inos[i] = c
				used[c] = true
				break
			}
		}
	}
	return sortInos(inos)
}

// sortInos returns inos sorted, with each one's index in inos. It is a
// stable LSD radix sort: hashes are uniform, so every byte matters, and
// eight linear passes beat a comparison sort several times over.
func sortInos(inos []uint64) (sorted []uint64, idx []uint32) {
	n := len(inos)
	sorted, idx = slices.Clone(inos), make([]uint32, n)
	for i := range idx {
		idx[i] = uint32(i)
	}
	tmp, tmpIdx := make([]uint64, n), make([]uint32, n)
	for shift := 0; shift < 64; shift += 8 {
		var count [257]int
		for _, v := range sorted {
			count[(v>>shift)&0xff+1]++
		}
		for d := 1; d < len(count); d++ {
			count[d] += count[d-1]
		}
		for i, v := range sorted {
			d := (v >> shift) & 0xff
			tmp[count[d]], tmpIdx[count[d]] = v, idx[i]
			count[d]++
		}
		sorted, tmp = tmp, sorted
		idx, tmpIdx = tmpIdx, idx
	}
	return sorted, idx
}
