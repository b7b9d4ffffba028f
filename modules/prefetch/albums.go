package prefetch

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/tree"
)

// fileID is a file's identity in the index. Its strings are the records'
// own, so the album index copies no text.
type fileID struct{ origin, relPath string }

// albumKey is what makes tracks one album: the tags the default views put
// in an album's directory name (album artist, album, year), within one
// origin, so that a copy of an album in a second origin is not taken for
// more tracks of it.
type albumKey struct {
	origin, artist, album string
	year                  int
}

// albumPos locates a track in albumIndex.order: its album is
// order[start:end] and the track is order[i].
type albumPos struct{ i, end int32 }

// albumIndex lists each album's audio tracks in play order, for one
// snapshot. It is immutable once built.
type albumIndex struct {
	snap   *tree.Snapshot
	order  []*index.Track
	pos    map[fileID]albumPos // only tracks that have a next one
	albums int
}

// albumArtist is what makes a track's album artist for grouping: one key
// for every track of a compilation, whatever its track artists.
func albumArtist(t *index.Track) string {
	switch {
	case t.Compilation:
		return "\x00compilation"
	case len(t.AlbumArtists) > 0:
		return strings.Join(t.AlbumArtists, "\x00")
	}
	return strings.Join(t.Artists, "\x00")
}

// buildAlbums groups tracks into albums and sorts each by disc and track
// number. Tracks without an album tag belong to none: "Unknown Album" is
// no reason to guess what plays next.
func buildAlbums(snap *tree.Snapshot, tracks []*index.Track) *albumIndex {
	ids := make(map[albumKey]int)
	var groups [][]*index.Track
	for _, t := range tracks {
		if t == nil || !t.Audio || t.Album == "" {
			continue
		}
		k := albumKey{origin: t.Origin, artist: albumArtist(t), album: t.Album, year: t.Year}
		id, ok := ids[k]
		if !ok {
			id = len(groups)
			ids[k] = id
			groups = append(groups, nil)
		}
		groups[id] = append(groups[id], t)
	}
	a := &albumIndex{snap: snap}
	n := 0
	for _, g := range groups {
		if len(g) > 1 {
			n += len(g)
			a.albums++
		}
	}
	a.order = make([]*index.Track, 0, n)
	a.pos = make(map[fileID]albumPos, n-a.albums)
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		slices.SortFunc(g, playOrder)
		start := len(a.order)
		a.order = append(a.order, g...)
		end := int32(len(a.order))
		for j, t := range g[:len(g)-1] {
			a.pos[fileID{t.Origin, t.RelPath}] = albumPos{i: int32(start + j), end: end}
		}
	}
	return a
}

// playOrder sorts by disc (missing = 1), then track number (missing ones
// after the numbered), then path.
func playOrder(a, b *index.Track) int {
	disc := func(t *index.Track) int { return max(t.Disc, 1) }
	num := func(t *index.Track) int {
		if t.Track <= 0 {
			return math.MaxInt
		}
		return t.Track
	}
	return cmp.Or(cmp.Compare(disc(a), disc(b)), cmp.Compare(num(a), num(b)), strings.Compare(a.RelPath, b.RelPath))
}

// next returns up to n tracks that follow id in its album.
func (a *albumIndex) next(id fileID, n int) []*index.Track {
	p, ok := a.pos[id]
	if !ok {
		return nil
	}
	first := int(p.i) + 1
	return a.order[first:min(int(p.end), first+n)]
}
