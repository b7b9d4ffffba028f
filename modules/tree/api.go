// Package tree renders the index into immutable snapshots of the virtual
// directory tree. A snapshot is never modified after it is published, so FUSE
// operations read it without locks; a rebuild publishes a new one with an
// atomic pointer swap.
//
// The root holds one directory per tag view (rendered from audio tracks
// through the view's template) and Origins/<origin>/<relpath> with every
// file of every origin as it is there.
package tree

import (
	"slices"
	"strings"
	"time"
)

// RootIno is the inode number of the root, as FUSE expects.
const RootIno = 1

// Node is one file or directory of a snapshot. Nodes belong to their
// snapshot and must not be modified.
type Node struct {
	Ino     uint64 // stable across rebuilds and restarts (derived from the virtual path)
	Name    string // sanitised single path element ("" for the root)
	Dir     bool
	Size    int64     // files only
	ModTime time.Time // files: the origin file's mtime; dirs: newest descendant file's mtime
	Origin  string    // files only: origin name
	RelPath string    // files only: slash-separated path inside the origin

	idx    uint32 // position in Snapshot.nodes
	parent uint32
	first  uint32 // children are nodes[first : first+nkids], sorted by name
	nkids  uint32
}

// Snapshot is an immutable virtual tree. All methods are safe for concurrent
// use without locks.
type Snapshot struct {
	// nodes in breadth-first order, so each directory's children are one
	// contiguous, name-sorted range.
	nodes []Node
	ptrs  []*Node // ptrs[i] == &nodes[i], for Children
	// inos sorted, and the position of each one's node.
	inos   []uint64
	inoIdx []uint32
	// tracks counts the audio tracks, for metrics and status.
	tracks int
}

// Root returns the root directory.
func (s *Snapshot) Root() *Node { return &s.nodes[0] }

// Len is the number of nodes, root included.
func (s *Snapshot) Len() int { return len(s.nodes) }

// Tracks is the number of audio tracks the snapshot was built from.
func (s *Snapshot) Tracks() int { return s.tracks }

// Node returns the node with inode number ino, or nil.
func (s *Snapshot) Node(ino uint64) *Node {
	if ino == RootIno {
		return s.Root()
	}
	i, ok := slices.BinarySearch(s.inos, ino)
	if !ok {
		return nil
	}
	return &s.nodes[s.inoIdx[i]]
}

// own returns n's counterpart in s: n itself when it belongs to s, else the
// node with the same inode number (so that a node kept from an older
// snapshot still works), or nil.
func (s *Snapshot) own(n *Node) *Node {
	if n == nil {
		return nil
	}
	if int(n.idx) < len(s.nodes) && &s.nodes[n.idx] == n {
		return n
	}
	return s.Node(n.Ino)
}

// Children returns the entries of dir sorted by name; nil for a file or a
// directory absent from s. The slice must not be modified.
func (s *Snapshot) Children(dir *Node) []*Node {
	dir = s.own(dir)
	if dir == nil || !dir.Dir {
		return nil
	}
	end := dir.first + dir.nkids
	return s.ptrs[dir.first:end:end]
}

// Lookup returns the entry called name in dir, or nil.
func (s *Snapshot) Lookup(dir *Node, name string) *Node {
	dir = s.own(dir)
	if dir == nil || !dir.Dir {
		return nil
	}
	kids := s.nodes[dir.first : dir.first+dir.nkids]
	i, ok := slices.BinarySearchFunc(kids, name, func(n Node, name string) int {
		return strings.Compare(n.Name, name)
	})
	if !ok {
		return nil
	}
	return &kids[i]
}

// LookupPath resolves a slash-separated virtual path relative to the root
// ("" or "." is the root), or returns nil.
func (s *Snapshot) LookupPath(p string) *Node {
	n := s.Root()
	if p == "" || p == "." {
		return n
	}
	for name := range strings.SplitSeq(p, "/") {
		if n = s.Lookup(n, name); n == nil {
			return nil
		}
	}
	return n
}

// Parent returns n's directory, or nil for the root.
func (s *Snapshot) Parent(n *Node) *Node {
	n = s.own(n)
	if n == nil || n.idx == 0 {
		return nil
	}
	return &s.nodes[n.parent]
}

// Path returns n's virtual path relative to the root, as io/fs spells it
// ("." for the root, "Artists/X" below it). It is meant for logs.
func (s *Snapshot) Path(n *Node) string {
	n = s.own(n)
	if n == nil {
		return ""
	}
	if n.idx == 0 {
		return "."
	}
	var parts []string
	for ; n.idx != 0; n = &s.nodes[n.parent] {
		parts = append(parts, n.Name)
	}
	slices.Reverse(parts)
	return strings.Join(parts, "/")
}
