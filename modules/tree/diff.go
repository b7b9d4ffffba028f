package tree

import "strings"

// DirChange is a directory whose entries differ between two snapshots.
type DirChange struct {
	Ino uint64
	// Removed and Added are entry names, sorted. An entry that became a
	// different node (another inode number, or a file turned directory)
	// is in both.
	Removed, Added []string
}

// Diff reports what a swap from old to cur changes, for invalidating the
// kernel's caches: every directory of old (still present or gone) whose
// entries changed, and the inode numbers of files present in both whose
// size, mtime or origin file changed. old may be nil (nothing to report).
func Diff(old, cur *Snapshot) (dirs []DirChange, files []uint64) {
	if old == nil || cur == nil || old == cur {
		return nil, nil
	}
	for i := range old.nodes {
		o := &old.nodes[i]
		n := cur.Node(o.Ino)
		if !o.Dir {
			if n != nil && !n.Dir && n.t != o.t && (n.Size() != o.Size() || !n.ModTime().Equal(o.ModTime()) ||
				n.Origin() != o.Origin() || n.RelPath() != o.RelPath()) {
				files = append(files, o.Ino)
			}
			continue
		}
		if n != nil && !n.Dir {
			n = nil
		}
		if dc, changed := diffDir(old.kids(o), cur.kids(n)); changed {
			dc.Ino = o.Ino
			dirs = append(dirs, dc)
		}
	}
	return dirs, files
}

// diffDir merges two name-sorted entry lists.
func diffDir(old, cur []Node) (dc DirChange, changed bool) {
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		var c int
		switch {
		case i == len(old):
			c = 1
		case j == len(cur):
			c = -1
		default:
			c = strings.Compare(old[i].Name, cur[j].Name)
		}
		switch {
		case c < 0:
			dc.Removed = append(dc.Removed, old[i].Name)
			i++
		case c > 0:
			dc.Added = append(dc.Added, cur[j].Name)
			j++
		default:
			if old[i].Ino != cur[j].Ino || old[i].Dir != cur[j].Dir {
				dc.Removed = append(dc.Removed, old[i].Name)
				dc.Added = append(dc.Added, cur[j].Name)
			}
			i++
			j++
		}
	}
	return dc, dc.Removed != nil || dc.Added != nil
}
