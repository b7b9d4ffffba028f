package tree

import (
	"cmp"
	"path"
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

func splitRel(rel string) (dir, base string) {
	i := strings.LastIndexByte(rel, '/')
	return rel[:max(i, 0)], rel[i+1:]
}

func isCover(base string) bool {
	ext := path.Ext(base)
	stem := base[:len(base)-len(ext)]
	return (strings.EqualFold(ext, ".jpg") || strings.EqualFold(ext, ".jpeg") || strings.EqualFold(ext, ".png")) &&
		(strings.EqualFold(stem, "cover") || strings.EqualFold(stem, "folder") || strings.EqualFold(stem, "front"))
}

// place creates the directories and the (possibly clashing) file entries of
// every view.
func (b *builder) place(views []View, tpls []*template) {
	root := b.dir(-1, "")
	viewDirs := make([]int32, len(views))
	for i, v := range views {
		viewDirs[i] = b.dir(root, v.Name)
	}
	origins := b.dir(root, OriginsDir)

	for i, t := range b.tracks {
		if !t.Audio {
			if dir, base := splitRel(t.RelPath); isCover(base) {
				k := folderKey{t.Origin, dir}
				f, ok := b.coverFolders[k]
				if !ok {
					f = int32(len(b.covers))
					b.coverFolders[k] = f
					b.covers = append(b.covers, nil)
				}
				b.covers[f] = append(b.covers[f], int32(i))
			}
		}
	}

	caches := make([][]dirCache, len(views))
	for i, tpl := range tpls {
		caches[i] = make([]dirCache, len(tpl.segs))
		for j := range caches[i] {
			caches[i][j].parent = -1
		}
	}
	var originCache []dirCache
	lastFolder, haveFolder, folder := folderKey{}, false, int32(-1)
	lastAlbum := make([]albumFolder, len(views)) // skips repeats of consecutive tracks

	for i, t := range b.tracks {
		originCache = b.placeOrigin(origins, i, t, originCache)
		if !t.Audio {
			continue
		}
		if len(b.covers) > 0 {
			if dir, _ := splitRel(t.RelPath); !haveFolder || dir != lastFolder.dir || t.Origin != lastFolder.origin {
				lastFolder, haveFolder = folderKey{t.Origin, dir}, true
				folder = -1
				if f, ok := b.coverFolders[lastFolder]; ok {
					folder = f
				}
			}
		}
		b.vals.set(t, &b.style)
		for v, tpl := range tpls {
			b.placeLevel(viewDirs[v], tpl, 0, caches[v], maxPlacements, trackPlace{i, folder, &lastAlbum[v]})
		}
	}

	// Cover images, once per album directory and origin folder.
	slices.SortFunc(b.albums, func(a, c albumFolder) int {
		return cmp.Or(cmp.Compare(a.dir, c.dir), cmp.Compare(a.folder, c.folder))
	})
	for _, a := range slices.Compact(b.albums) {
		for _, ci := range b.covers[a.folder] {
			_, base := splitRel(b.tracks[ci].RelPath)
			name := sanitize(base, true)
			b.file(a.dir, name, int(ci), name != base)
		}
	}
}

// maxPlacements bounds the entries one track gets in one view: a track with
// many artists and many genres is listed under the first of them, with the
// rest of its values joined in one directory name.
const maxPlacements = 64

// trackPlace is what placeLevel carries down for one track.
type trackPlace struct {
	track     int
	folder    int32        // its origin folder's covers, -1 if none
	lastAlbum *albumFolder // the view's last album directory with covers
}

// placeLevel places the track under parent from level d of tpl down. A
// level that groups by a field with several values places it under each
// (up to room placements in all), the value set while the levels below
// render, so that {genre}/{albumartist} lists a track under each genre and
// each artist.
func (b *builder) placeLevel(parent int32, tpl *template, d int, caches []dirCache, room int, tp trackPlace) {
	seg := &tpl.segs[d]
	if d == len(tpl.segs)-1 {
		b.placeFile(parent, seg, tp)
		return
	}
	f := seg.groups()
	if f == fNone || len(b.vals.lists[f]) < 2 || room < 2 {
		b.placeLevel(b.placeDir(parent, seg, &caches[d]), tpl, d+1, caches, room, tp)
		return
	}
	vs := b.vals.lists[f]
	n := min(len(vs), room)
	joined := b.vals.str[f]
	for _, val := range vs[:n] {
		b.vals.str[f] = val
		b.placeLevel(b.placeDir(parent, seg, &caches[d]), tpl, d+1, caches, room/n, tp)
	}
	b.vals.str[f] = joined
}

// placeFile adds the track's file entry under parent.
func (b *builder) placeFile(parent int32, seg *segment, tp trackPlace) {
	b.buf, b.lits = seg.render(b.buf[:0], &b.vals, b.lits)
	name, ok := b.fileNames[string(b.buf)]
	if !ok {
		raw := string(b.buf)
		name = clean(raw, true)
		b.fileNames[raw] = name
	}
	altered := name != string(b.buf) // no allocation: compared in place
	if name == "" {
		name = seg.finish("", true)
	}
	b.file(parent, name, tp.track, altered)
	if a := (albumFolder{parent, tp.folder}); tp.folder >= 0 && a != *tp.lastAlbum {
		b.albums = append(b.albums, a)
		*tp.lastAlbum = a
	}
}

// placeDir renders one directory level of a track in a view.
func (b *builder) placeDir(parent int32, seg *segment, c *dirCache) int32 {
	b.buf, b.lits = seg.render(b.buf[:0], &b.vals, b.lits)
	if c.parent == parent && c.raw == string(b.buf) {
		return c.id
	}
	r, ok := b.dirNames[string(b.buf)]
	if !ok {
		r.raw = string(b.buf)
		r.name = clean(r.raw, false)
		b.dirNames[r.raw] = r
	}
	name := r.name
	if name == "" {
		name = seg.finish("", false)
	}
	*c = dirCache{parent: parent, raw: r.raw, id: b.dir(parent, name)}
	return c.id
}

// placeOrigin puts track i under Origins/<origin>/<relpath>. Elements are
// substrings of the record's own strings, so clean names cost nothing.
// Directories are told apart by their raw names, which need not be UTF-8:
// two that sanitise alike are two entries (one gets a suffix), and every
// file entry reaches the origin through its record's raw RelPath.
func (b *builder) placeOrigin(origins int32, i int, t *index.Track, cache []dirCache) []dirCache {
	rest := strings.Trim(t.RelPath, "/")
	elem := t.Origin
	parent := origins
	for depth := 0; ; depth++ {
		if depth == len(cache) {
			cache = append(cache, dirCache{parent: -1})
		}
		c := &cache[depth]
		if c.parent != parent || c.raw != elem {
			*c = dirCache{parent: parent, raw: elem, id: b.rawDir(parent, elem, sanitize(elem, false))}
		}
		parent = c.id
		j := strings.IndexByte(rest, '/')
		for j == 0 { // skip empty elements of "a//b"
			rest = rest[1:]
			j = strings.IndexByte(rest, '/')
		}
		if j < 0 {
			name := sanitize(rest, true)
			b.file(parent, name, i, name != rest)
			return cache
		}
		elem, rest = rest[:j], rest[j+1:]
	}
}

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
