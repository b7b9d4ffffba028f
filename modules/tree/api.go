// Package tree renders the index into immutable snapshots of the virtual
// directory tree. A snapshot is never modified after it is published, so FUSE
// operations read it without locks; a rebuild publishes a new one with an
// atomic pointer swap.
package tree

// API CONTRACT (implemented in this package; fusefs depends on exactly this):
//
//   type View struct {            // one configured view, YAML: views[].name/template
//       Name     string `koanf:"name"`
//       Template string `koanf:"template"`
//   }
//   func DefaultViews() []View
//   func (v View) Validate() error // template parses; name is a valid single path element
//
//   type Config struct { Views []View }   // provided by the config module
//
//   type Node struct {
//       Ino     uint64    // stable across rebuilds and restarts (derived from the virtual path)
//       Name    string    // sanitised single path element ("" for the root)
//       Dir     bool
//       Size    int64     // files only
//       ModTime time.Time // files: the origin file's mtime; dirs: newest child mtime
//       Origin  string    // files only: origin name
//       RelPath string    // files only: path inside the origin
//   }
//   type Snapshot struct{ ... }                       // immutable
//   func (s *Snapshot) Root() *Node
//   func (s *Snapshot) Node(ino uint64) *Node         // nil if absent
//   func (s *Snapshot) Lookup(dir *Node, name string) *Node // nil if absent
//   func (s *Snapshot) Children(dir *Node) []*Node    // sorted by name; do not modify
//   func (s *Snapshot) Path(n *Node) string           // virtual path, for logs
//   func (s *Snapshot) Len() int                      // number of nodes
//   func (s *Snapshot) Tracks() int                   // audio files in the snapshot
//
//   func Build(tracks []*index.Track, views []View) (*Snapshot, error) // pure, no I/O
//
//   type Tree struct{ ... }
//   func New(p Params) (*Tree, error)   // Params: fx.In{Source index.Source; Config Config; Logger *zap.Logger; Lifecycle}
//   func (t *Tree) Current() *Snapshot  // never nil after Start
//   func (t *Tree) Swapped() <-chan struct{} // signalled (coalesced) after each publish
//   Start: build the first snapshot synchronously from Source.Tracks(); start the
//          rebuild goroutine (rebuilds on Source.Updated(), rate-limited; a panic in a
//          rebuild is recovered, logged with stack, counted, and the old snapshot stays).
//   Stop:  stop the goroutine and wait for it.
