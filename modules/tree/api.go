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

	"github.com/musicfs/musicfs/modules/index"
)

// RootIno is the inode number of the root, as FUSE expects.
const RootIno = 1

// Node is one file or directory of a snapshot. Nodes belong to their
// snapshot and must not be modified.
type Node struct {
	Ino  uint64 // stable across rebuilds and restarts (derived from the virtual path)
	Name string // sanitised single path element ("" for the root)
	Dir  bool

	idx    uint32 // position in Snapshot.nodes
	parent uint32
	// The children are nodes[first : the next node's first], sorted by
	// name: first never decreases along nodes (a file's range is empty).
	first uint32
	// A file's index record, shared rather than copied (records are
	// immutable); a directory's newest descendant file, nil if it has none.
	t *index.Track
}

// Size is a file's size in bytes; 0 for a directory.
func (n Node) Size() int64 {
	if n.Dir || n.t == nil {
		return 0
	}
	return n.t.Size
}

// ModTime is a file's mtime in its origin; for a directory, that of its
// newest descendant file (zero if it has none).
func (n Node) ModTime() time.Time {
	if n.t == nil {
		return time.Time{}
	}
	return n.t.ModTime
}

// Origin is the name of a file's origin; "" for a directory.
func (n Node) Origin() string {
	if n.Dir || n.t == nil {
		return ""
	}
	return n.t.Origin
}

// RelPath is a file's slash-separated path inside its origin; "" for a
// directory.
func (n Node) RelPath() string {
	if n.Dir || n.t == nil {
		return ""
	}
	return n.t.RelPath
}

// Track is a file's index record (shared: do not modify); nil for a
// directory.
func (n Node) Track() *index.Track {
	if n.Dir {
		return nil
	}
	return n.t
}

// Snapshot is an immutable virtual tree. All methods are safe for concurrent
// use without locks.
type Snapshot struct {
	// nodes in breadth-first order, so each directory's children are one
	// contiguous, name-sorted range.
	nodes []Node
	byIno inoTable // every node but the root
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
	if _, pos, ok := s.byIno.find(ino, s.inoAt); ok {
		return &s.nodes[pos]
	}
	return nil
}

func (s *Snapshot) inoAt(pos int) uint64 { return s.nodes[pos].Ino }

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

// kids returns the children of dir, sorted by name; nil for a file or a
// directory absent from s.
func (s *Snapshot) kids(dir *Node) []Node {
	dir = s.own(dir)
	if dir == nil || !dir.Dir {
		return nil
	}
	end := uint32(len(s.nodes))
	if next := dir.idx + 1; int(next) < len(s.nodes) {
		end = s.nodes[next].first
	}
	return s.nodes[dir.first:end:end]
}

// Children returns the entries of dir sorted by name; nil for a file or a
// directory absent from s. The slice is the snapshot's own (no copy: a
// listing is read once per READDIR request) and must not be modified.
func (s *Snapshot) Children(dir *Node) []Node {
	return s.kids(dir)
}

// Lookup returns the entry called name in dir, or nil.
func (s *Snapshot) Lookup(dir *Node, name string) *Node {
	kids := s.kids(dir)
	i, j := 0, len(kids)
	for i < j { // by hand: slices.BinarySearchFunc would copy every node it compares
		h := int(uint(i+j) >> 1)
		if kids[h].Name < name {
			i = h + 1
		} else {
			j = h
		}
	}
	if i < len(kids) && kids[i].Name == name {
		return &kids[i]
	}
	return nil
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
