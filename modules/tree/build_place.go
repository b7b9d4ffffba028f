package tree

// Placing: the directories and file entries each track gets in every view
// and under Origins/, and the cover images of its album directories.

import (
	"cmp"
	"path"
	"slices"
	"strings"

	"github.com/musicfs/musicfs/modules/index"
)

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

	b.findCovers()

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

	b.placeCovers()
}

// findCovers lists the cover images of each origin folder.
func (b *builder) findCovers() {
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
}

// placeCovers adds the cover images, once per album directory and origin
// folder.
func (b *builder) placeCovers() {
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
