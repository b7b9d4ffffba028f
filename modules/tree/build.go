package tree

import (
	"cmp"
	"slices"
	"strings"

	"github.com/musicfs/musicfs/modules/index"
)

// Build renders tracks through the views of cfg into a snapshot. It is pure
// (no I/O) and deterministic: the same set of tracks gives the same
// snapshot, with the same names and inode numbers, whatever their order.
func Build(tracks []*index.Track, cfg Config) (*Snapshot, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	views := cfg.Views
	tpls := make([]*template, len(views))
	for i, v := range views {
		tpls[i], _ = parseTemplate(v.Template) // validated above
	}
	b := newBuilder(sortTracks(tracks), len(views))
	b.style = style{various: cfg.Tags.VariousArtists, separator: cfg.Tags.Separator}
	b.place(views, tpls)
	b.dirs, b.dirNames, b.fileNames, b.coverFolders = nil, nil, nil, nil // garbage from here on
	b.resolveCollisions()
	return b.layout(), nil
}

// sortTracks returns the tracks ordered by (origin, relpath), without nils
// or repeated records of the same file (the first one wins). This order
// decides who keeps a contested name.
func sortTracks(in []*index.Track) []*index.Track {
	out := make([]*index.Track, 0, len(in))
	for _, t := range in {
		if t != nil {
			out = append(out, t)
		}
	}
	slices.SortStableFunc(out, compareTracks)
	return slices.CompactFunc(out, func(a, b *index.Track) bool { return compareTracks(a, b) == 0 })
}

func compareTracks(a, b *index.Track) int {
	return cmp.Or(strings.Compare(a.Origin, b.Origin), strings.Compare(a.RelPath, b.RelPath))
}

// bnode is a node under construction.
type bnode struct {
	name   string
	parent int32
	track  int32 // index into builder.tracks; -1 for directories
	// altered: name is not the entry's raw name (the origin's, or the
	// rendered template) but its sanitised form. Of entries that share a
	// name, one shown as it is keeps it.
	altered bool
}

func (bn *bnode) dir() bool { return bn.track < 0 }

// dirKey finds a directory: by sanitised name in the tag views, where
// values that render alike are one directory, and by raw name under
// Origins/, where each directory of an origin is one entry however its name
// sanitises.
type dirKey struct {
	parent int32
	name   string
}

// dirCache remembers the last directory resolved at one level of one view.
// Tracks arrive sorted by path, so consecutive tracks mostly share their
// directories and skip both the name and the directory maps.
type dirCache struct {
	parent int32
	raw    string // the element before sanitising
	id     int32
}

type folderKey struct {
	origin, dir string
}

type builder struct {
	tracks []*index.Track
	nodes  []bnode
	dirs   map[dirKey]int32
	// Rendered element -> cleaned name (possibly "", meaning "use the
	// segment's Unknown name"), shared by all views so that equal names
	// share one string.
	dirNames  map[string]rendered
	fileNames map[string]string

	// covers: cover images by origin folder, and the album directories
	// that show them.
	coverFolders map[folderKey]int32
	covers       [][]int32 // track indices per folder
	albums       []albumFolder

	// Set by resolveCollisions: the children of node d are
	// kids[start[d]:start[d+1]], sorted by name.
	kids, start []int32

	buf   []byte
	lits  []string
	vals  values
	style style
}

type rendered struct {
	raw, name string
}

type albumFolder struct {
	dir, folder int32
}

func newBuilder(tracks []*index.Track, nviews int) *builder {
	// About one node per track and view plus the raw view, and a directory
	// per album and view.
	est := len(tracks)*(nviews+1) + len(tracks)/4*(nviews+1) + 16
	return &builder{
		tracks:       tracks,
		nodes:        make([]bnode, 0, est),
		dirs:         make(map[dirKey]int32, len(tracks)/2+16),
		dirNames:     make(map[string]rendered, len(tracks)/4+16),
		fileNames:    make(map[string]string, len(tracks)+16),
		coverFolders: map[folderKey]int32{},
	}
}

// dir returns the directory called name under parent, creating it.
func (b *builder) dir(parent int32, name string) int32 {
	return b.rawDir(parent, name, name)
}

// rawDir returns the directory whose raw name is raw under parent, creating
// it as name (raw sanitised).
func (b *builder) rawDir(parent int32, raw, name string) int32 {
	k := dirKey{parent, raw}
	if id, ok := b.dirs[k]; ok {
		return id
	}
	id := int32(len(b.nodes))
	b.nodes = append(b.nodes, bnode{name: name, parent: parent, track: -1, altered: name != raw})
	b.dirs[k] = id
	return id
}

// file adds the entry name for track under parent; altered says that name
// is not the raw one.
func (b *builder) file(parent int32, name string, track int, altered bool) {
	b.nodes = append(b.nodes, bnode{name: name, parent: parent, track: int32(track), altered: altered})
}
