package tags

import (
	"strings"
)

// The Matroska (and WebM) elements read, and the top-level ones skipped.
// An ID is written with its length marker, as in the file.
const (
	mkvEBML         = 0x1A45DFA3
	mkvSegment      = 0x18538067
	mkvSeekHead     = 0x114D9B74
	mkvSeek         = 0x4DBB
	mkvSeekID       = 0x53AB
	mkvSeekPosition = 0x53AC
	mkvInfo         = 0x1549A966
	mkvTitle        = 0x7BA9
	mkvTracks       = 0x1654AE6B
	mkvCluster      = 0x1F43B675
	mkvCues         = 0x1C53BB6B
	mkvAttachments  = 0x1941A469
	mkvChapters     = 0x1043A770
	mkvTags         = 0x1254C367
	mkvTag          = 0x7373
	mkvTargets      = 0x63C0
	mkvTargetValue  = 0x68CA // TargetTypeValue
	mkvTargetType   = 0x63CA
	mkvChapterUID   = 0x63C4 // TagChapterUID
	mkvAttachUID    = 0x63C6 // TagAttachmentUID
	mkvEditionUID   = 0x63C9 // TagEditionUID
	mkvSimpleTag    = 0x67C8
	mkvTagName      = 0x45A3
	mkvTagString    = 0x4487
)

const (
	// mkvMaxElements bounds the elements visited in one file (a real one
	// has a few dozen before its tags), so that a file of a million tiny
	// elements, or of clusters without a SeekHead, costs no more than this.
	mkvMaxElements = 10000
	// mkvMaxName bounds a TagName or TargetType.
	mkvMaxName = 256
	// mkvHeader is the longest element header: an 8-byte ID, an 8-byte size.
	mkvHeader = 16
)

// Target levels (TargetTypeValue).
const (
	mkvTrackLevel = 30
	mkvAlbumLevel = 50
)

// mkvLevelNames are the TargetTypes of each level, for Targets that name
// the type but not its value.
var mkvLevelNames = map[string]uint64{
	"COLLECTION": 70, "EDITION": 60, "ISSUE": 60, "VOLUME": 60, "OPUS": 60, "SEASON": 60, "SEQUEL": 60,
	"ALBUM": 50, "OPERA": 50, "CONCERT": 50, "MOVIE": 50, "EPISODE": 50, "SESSION": 40,
	"TRACK": 30, "SONG": 30, "CHAPTER": 30, "SUBTRACK": 20, "MOVEMENT": 20, "SCENE": 20, "SHOT": 10,
}

// The SimpleTag names whose meaning depends on the level of their Tag: a
// TITLE is the track's at track level and the album's at album level. At
// any other level they are not read.
var (
	mkvTrackNames = map[string]Field{"TITLE": Title, "ARTIST": Artist, "PART_NUMBER": TrackNumber, "TRACK": TrackNumber}
	mkvAlbumNames = map[string]Field{"TITLE": Album, "ARTIST": AlbumArtist, "TOTAL_PARTS": TrackTotal}
)

// mkvNames are the Matroska names read at any level; any other name is
// looked up with keyField (ALBUM, ALBUM_ARTIST, ARTISTS, DISC, ... as
// ffmpeg and taggers write them).
var mkvNames = map[string]Field{
	"GENRE": Genre, "DATE": Date, "DATE_RECORDED": Date,
	// Not Date: a date beside DATE_RECORDED must not be taken for it,
	// whatever their order. Alone it still gives the year.
	"DATE_RELEASED": ReleaseDate,
}

// mkvElement is an element found: its ID and where its header and body lie.
type mkvElement struct {
	id             uint64
	pos, body, end int64
	unknown        bool // unknown size: end is its parent's
	cut            bool // its size runs past its parent: end is the parent's
}

// mkvSeekEntry is a SeekHead entry we follow: the element it names and
// where it says that element is.
type mkvSeekEntry struct {
	id  uint64
	pos int64
}

// mkvReader reads the tags of one Segment.
type mkvReader struct {
	f        *file
	blk      Block
	title    string // the Segment Info's Title
	elements int    // visited so far
	err      error  // the first broken element

	start, end int64          // the Segment's data
	seeks      []mkvSeekEntry // from the SeekHeads read
	tagsListed bool           // a SeekHead lists Tags
	tagsRead   int            // Tags elements visited
	done       map[int64]int64
}

// readMatroska reads the Tags of the first Segment after the EBML header at
// off, and the Segment's Title (what ffmpeg writes the title to). The
// Segment's top-level elements are walked by their sizes, reading only
// their headers; a SeekHead, when there is one, gives where Tags after the
// Clusters are, so the Clusters are not walked at all. Clusters and
// Attachments (cover art) are never read.
func (f *file) readMatroska(off int64) {
	r := &mkvReader{f: f, blk: Block{Kind: Matroska}, done: map[int64]int64{}}
	if seg, ok := r.segment(off); ok {
		r.start, r.end = seg.body, seg.end
		r.read()
	}
	if len(r.blk.Values[Title]) == 0 {
		r.blk.Add(Title, r.title)
	}
	f.add(r.blk)
	f.fail(r.err)
}

// segment finds the first Segment after the EBML header at off.
func (r *mkvReader) segment(off int64) (mkvElement, bool) {
	size := r.f.s.size
	el, ok := r.header(off, size, true)
	if !ok {
		return el, false
	}
	if el.id != mkvEBML || el.unknown {
		r.broken(off, "no EBML header")
		return el, false
	}
	for pos := el.end; pos < size; pos = el.end {
		if el, ok = r.header(pos, size, true); !ok {
			return el, false
		}
		if el.id == mkvSegment {
			return el, true // of unknown size, it runs to the end of the file
		}
		if el.unknown {
			r.broken(pos, "element of unknown size before the Segment")
			return el, false
		}
	}
	return el, false
}

// read walks the Segment's top-level elements, then follows the SeekHead
// entries not reached. It walks past the first Cluster only where there is
// no SeekHead before it, or where the Tags a SeekHead lists are not where
// it says: a SeekHead lists every top-level element but Clusters (mkvmerge,
// ffmpeg and libwebm write it so, and taggers keep it so), and a file whose
// SeekHead lists no Tags has none.
func (r *mkvReader) read() {
	pos, early := r.walk(r.start, true)
	for i := 0; i < len(r.seeks) && r.f.s.err == nil; i++ { // a SeekHead reached may add more
		e := r.seeks[i]
		if _, ok := r.done[e.pos]; ok {
			continue
		}
		el, ok := r.header(e.pos, r.end, false)
		if !ok {
			continue
		}
		if el.id != e.id {
			r.broken(e.pos, "SeekHead entry for %#x finds %#x", e.id, el.id)
			continue
		}
		r.visit(el)
	}
	if early && r.tagsListed && r.tagsRead == 0 && r.f.s.err == nil {
		r.walk(pos, false)
	}
}

// walk visits the top-level elements from pos on and returns where it
// stopped; with early, it stops at a Cluster once a SeekHead has been
// read, and says so. It stops too at an element of unknown size that it
// does not read, since where that ends cannot be known without reading it.
func (r *mkvReader) walk(pos int64, early bool) (int64, bool) {
	for pos < r.end {
		el, ok := r.header(pos, r.end, true)
		if !ok {
			return pos, false
		}
		switch el.id {
		case mkvSeekHead, mkvInfo, mkvTags:
			if end, ok := r.done[pos]; ok {
				pos = end
			} else {
				pos = r.visit(el)
			}
			continue
		case mkvCluster:
			if early && len(r.seeks) > 0 {
				return pos, true
			}
		case mkvEBML, mkvSegment:
			return pos, false // a second Segment: only the first is read
		}
		if el.unknown {
			return pos, false
		}
		pos = el.end
	}
	return pos, false
}

// visit reads a top-level SeekHead, Info or Tags element and returns where
// it ends: for one of unknown size, where its children end.
func (r *mkvReader) visit(el mkvElement) int64 {
	var end int64
	switch el.id {
	case mkvSeekHead:
		end = r.seekHead(el)
	case mkvInfo:
		end = r.children(el, func(c mkvElement) {
			if c.id == mkvTitle && r.title == "" {
				if b, ok := r.leaf(c, maxFieldLen); ok {
					r.title = utf8Text(b)
				}
			}
		})
	case mkvTags:
		r.tagsRead++
		end = r.children(el, func(c mkvElement) {
			if c.id == mkvTag {
				r.tag(c)
			}
		})
	}
	if !el.unknown {
		end = el.end
	}
	r.done[el.pos] = end
	return end
}

// seekHead reads the entries of a SeekHead that we follow: those of Tags,
// Info and further SeekHeads.
func (r *mkvReader) seekHead(el mkvElement) int64 {
	return r.children(el, func(seek mkvElement) {
		if seek.id != mkvSeek {
			return
		}
		var id, pos uint64
		var hasID, hasPos bool
		r.children(seek, func(c mkvElement) {
			switch c.id {
			case mkvSeekID:
				id, hasID = r.uint(c)
			case mkvSeekPosition:
				pos, hasPos = r.uint(c)
			}
		})
		if !hasID || !hasPos || pos >= uint64(r.end-r.start) {
			return
		}
		switch id {
		case mkvTags:
			r.tagsListed = true
			fallthrough
		case mkvInfo, mkvSeekHead:
			r.seeks = append(r.seeks, mkvSeekEntry{id: id, pos: r.start + int64(pos)})
		}
	})
}

// mkvSimple is a SimpleTag's name and where its TagString is.
type mkvSimple struct {
	name string
	str  mkvElement
}

// tag reads one Tag: its Targets say which level its SimpleTags are of. A
// Tag with no Targets applies to the whole file (ffmpeg writes its global
// metadata so) and counts as track level; so does one without a
// TargetTypeValue. A Tag of a chapter, an edition or an attachment is not
// the file's and is not read.
func (r *mkvReader) tag(el mkvElement) {
	level, other := uint64(mkvTrackLevel), false
	var simple []mkvSimple
	r.children(el, func(c mkvElement) {
		switch c.id {
		case mkvTargets:
			level, other = r.targets(c)
		case mkvSimpleTag:
			if s, ok := r.simpleTag(c); ok {
				simple = append(simple, s)
			}
		}
	})
	if other {
		return
	}
	for _, s := range simple {
		field, ok := mkvField(level, s.name)
		if !ok || len(r.blk.Values[field]) >= maxValues {
			continue
		}
		if b, ok := r.leaf(s.str, maxFieldLen); ok {
			r.blk.Add(field, utf8Text(b))
		}
	}
}

// mkvField maps a SimpleTag name at a level to a field.
func mkvField(level uint64, name string) (Field, bool) {
	name = strings.ToUpper(strings.TrimSpace(name))
	if f, ok := mkvNames[name]; ok {
		return f, true
	}
	track, isTrack := mkvTrackNames[name]
	album, isAlbum := mkvAlbumNames[name]
	switch {
	case isTrack && level == mkvTrackLevel:
		return track, true
	case isAlbum && level == mkvAlbumLevel:
		return album, true
	case isTrack || isAlbum:
		return 0, false
	}
	return keyField(name)
}

// targets reads a Targets element: the level of its Tag, and whether the
// Tag is of a chapter, an edition or an attachment.
func (r *mkvReader) targets(el mkvElement) (level uint64, other bool) {
	var typ string
	r.children(el, func(c mkvElement) {
		switch c.id {
		case mkvTargetValue:
			level, _ = r.uint(c)
		case mkvTargetType:
			if b, ok := r.leaf(c, mkvMaxName); ok {
				typ = strings.ToUpper(strings.TrimSpace(string(b)))
			}
		case mkvChapterUID, mkvEditionUID, mkvAttachUID:
			if uid, ok := r.uint(c); ok && uid != 0 {
				other = true
			}
		}
	})
	if level == 0 {
		level = mkvLevelNames[typ]
	}
	if level == 0 {
		level = mkvTrackLevel
	}
	return level, other
}

// simpleTag reads a SimpleTag's name and finds its TagString, which is read
// only if the name is one we map. Nested SimpleTags (a name's sort order,
// say) are not read.
func (r *mkvReader) simpleTag(el mkvElement) (mkvSimple, bool) {
	var s mkvSimple
	var hasName, hasString bool
	r.children(el, func(c mkvElement) {
		switch c.id {
		case mkvTagName:
			if b, ok := r.leaf(c, mkvMaxName); ok && !hasName {
				s.name, hasName = string(b), true
			}
		case mkvTagString:
			if !hasString {
				s.str, hasString = c, true
			}
		}
	})
	return s, hasName && hasString
}

// mkvLevel1 reports whether id is that of a top-level element (or of the
// EBML header or a Segment): inside any other element it ends one of
// unknown size, and is out of place in one of known size.
func mkvLevel1(id uint64) bool {
	switch id {
	case mkvSeekHead, mkvInfo, mkvTracks, mkvCluster, mkvCues, mkvAttachments, mkvChapters, mkvTags, mkvEBML, mkvSegment:
		return true
	}
	return false
}
