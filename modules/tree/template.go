package tree

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/musicfs/musicfs/modules/index"
)

// field is a template field such as {album}.
type field uint8

const (
	fNone field = iota // a literal token
	fAlbumArtist
	fArtist
	fAlbum
	fTitle
	fGenre
	fYear
	fTrack
	fDisc
	fDiscTotal
	fExt
	fOrigin
	fFilename
	nFields
)

var fieldNames = [nFields]string{
	fAlbumArtist: "albumartist",
	fArtist:      "artist",
	fAlbum:       "album",
	fTitle:       "title",
	fGenre:       "genre",
	fYear:        "year",
	fTrack:       "track",
	fDisc:        "disc",
	fDiscTotal:   "disctotal",
	fExt:         "ext",
	fOrigin:      "origin",
	fFilename:    "filename",
}

// unknown names a path element that rendered empty, by its first field.
var unknown = [nFields]string{
	fAlbumArtist: "Unknown Artist",
	fArtist:      "Unknown Artist",
	fAlbum:       "Unknown Album",
	fTitle:       "Unknown Title",
	fGenre:       "Unknown Genre",
	fYear:        "Unknown Year",
	fTrack:       "Unknown Track",
	fDisc:        "Unknown Disc",
	fDiscTotal:   "Unknown Disc Total",
	fExt:         "Unknown Extension",
	fOrigin:      "Unknown Origin",
	fFilename:    "Unknown File",
}

func (f field) numeric() bool {
	return f == fYear || f == fTrack || f == fDisc || f == fDiscTotal
}

// multi reports whether f can hold several values (several artists,
// several genres).
func (f field) multi() bool {
	return f == fArtist || f == fAlbumArtist || f == fGenre
}

// maxWidth bounds {field:NN} so that a template cannot ask for huge names.
const maxWidth = 20

type token struct {
	lit   string // when field == fNone
	field field
	width int // zero-padded width of numeric fields; 0 = as is
}

type segment struct {
	toks      []token
	first     field // first field in the segment, fNone if none
	lastField int   // index of the last field token, -1 if none
}

// groups returns the field a directory segment groups by, or fNone: a
// segment that is a multi-valued field and nothing else ("{genre}") puts a
// track under each of its values; any other segment ("{album} -
// {albumartist}") names one directory with the values joined.
func (seg *segment) groups() field {
	if len(seg.toks) == 1 && seg.toks[0].field.multi() {
		return seg.toks[0].field
	}
	return fNone
}

// template is a parsed view template: one segment per path level.
type template struct {
	segs []segment
}

func parseTemplate(s string) (*template, error) {
	if s == "" {
		return nil, errors.New("must not be empty")
	}
	tpl := &template{}
	seg := segment{lastField: -1}
	endSeg := func() error {
		if len(seg.toks) == 0 {
			return errors.New("empty path segment (leading, trailing or double '/')")
		}
		if seg.first == fNone {
			lit := seg.toks[0].lit
			if clean(lit, false) != lit {
				return fmt.Errorf("literal path segment %q is not a valid name", lit)
			}
		}
		tpl.segs = append(tpl.segs, seg)
		seg = segment{lastField: -1}
		return nil
	}
	lit := 0 // start of the current literal
	flushLit := func(end int) {
		if end > lit {
			seg.toks = append(seg.toks, token{lit: s[lit:end]})
		}
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '}':
			return nil, fmt.Errorf("unbalanced '}' at offset %d", i)
		case '/':
			flushLit(i)
			lit = i + 1
			if err := endSeg(); err != nil {
				return nil, err
			}
		case '{':
			flushLit(i)
			j := strings.IndexByte(s[i+1:], '}')
			if j < 0 {
				return nil, fmt.Errorf("unbalanced '{' at offset %d", i)
			}
			spec := s[i+1 : i+1+j]
			if strings.ContainsAny(spec, "{/") {
				return nil, fmt.Errorf("unbalanced '{' at offset %d", i)
			}
			tok, err := parseField(spec)
			if err != nil {
				return nil, err
			}
			if seg.first == fNone {
				seg.first = tok.field
			}
			seg.lastField = len(seg.toks)
			seg.toks = append(seg.toks, tok)
			i += j + 1
			lit = i + 1
		}
	}
	flushLit(len(s))
	if err := endSeg(); err != nil {
		return nil, err
	}
	return tpl, nil
}

func parseField(spec string) (token, error) {
	name, width, hasWidth := strings.Cut(spec, ":")
	tok := token{}
	for f := fAlbumArtist; f < nFields; f++ {
		if fieldNames[f] == name {
			tok.field = f
		}
	}
	if tok.field == fNone {
		return tok, fmt.Errorf("unknown field {%s}; known: %s", name, strings.Join(fieldNames[1:], ", "))
	}
	if !hasWidth {
		return tok, nil
	}
	if !tok.field.numeric() {
		return tok, fmt.Errorf("field {%s} takes no width", name)
	}
	w, err := strconv.Atoi(width)
	if err != nil || w < 1 || w > maxWidth || width[0] == '+' || width[0] == '-' {
		return tok, fmt.Errorf("field {%s}: width %q must be a number from 1 to %d", spec, width, maxWidth)
	}
	tok.width = w
	return tok, nil
}

// values are one track's field values, cleaned and with fallbacks applied.
// Numeric fields are kept as numbers (0 = missing) and formatted on use.
// A multi-valued field has its values in lists and their join in str.
type values struct {
	str   [nFields]string
	lists [nFields][]string
	num   [nFields]int
}

// style is how values are shown: the options of Config.
type style struct {
	various   string // album artist of compilations
	separator string // joins several values in one name
}

// variousNames are the album artists taggers give compilations.
var variousNames = []string{"various artists", "various artist", "various", "va", "v.a.", "v/a"}

func isVarious(s string) bool {
	for _, v := range variousNames {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
}

// maxValue bounds a tag value: a path element cannot be longer anyway, and
// a gigantic tag frame must not cost a gigantic render. It leaves room for
// characters that scrubbing removes.
const maxValue = 4 * maxName

// cleanValue scrubs a tag value; empty means missing. Dots stay: "." is a
// fine title inside "01 ..flac", and whole elements are sanitised later.
func cleanValue(s string) string {
	if len(s) > maxValue {
		s = cutBase(s, maxValue)
	}
	if isClean(s) {
		return s
	}
	return scrub(s)
}

func (v *values) set(t *index.Track, st *style) {
	base := t.RelPath[strings.LastIndexByte(t.RelPath, '/')+1:]
	ext := path.Ext(base)
	filename := base[:len(base)-len(ext)]
	v.str[fExt] = cleanValue(strings.ToLower(strings.TrimPrefix(ext, ".")))
	v.str[fFilename] = cleanValue(filename)
	v.str[fOrigin] = cleanValue(t.Origin)

	v.setList(fArtist, t.Artists, nil, "Unknown Artist", st)
	switch {
	case t.Compilation || slices.ContainsFunc(t.AlbumArtists, isVarious):
		// One album, whatever its track artists: never one per artist.
		v.setList(fAlbumArtist, nil, nil, st.various, st)
	default:
		v.setList(fAlbumArtist, t.AlbumArtists, v.lists[fArtist], "", st)
	}
	v.setList(fGenre, t.Genres, nil, "Unknown Genre", st)
	v.str[fAlbum] = or(cleanValue(t.Album), "Unknown Album")
	v.str[fTitle] = or(cleanValue(t.Title), or(v.str[fFilename], "Unknown Title"))

	v.num[fYear] = max(t.Year, 0)
	v.num[fTrack] = max(t.Track, 0)
	v.num[fDiscTotal] = max(t.DiscTotal, 0)
	v.num[fDisc] = max(t.Disc, 0)
	if t.Disc <= 1 && t.DiscTotal <= 1 {
		v.num[fDisc] = 0 // a single-disc album shows no disc number
	}
}

// setList sets a multi-valued field from vs, cleaned and without repeats;
// when none is left, from fallback, or else the single value unknown.
func (v *values) setList(f field, vs, fallback []string, unknown string, st *style) {
	l := v.lists[f][:0]
	for _, s := range vs {
		if s = cleanValue(s); s != "" && !slices.Contains(l, s) {
			l = append(l, s)
		}
	}
	if len(l) == 0 {
		l = append(l, fallback...)
	}
	if len(l) == 0 {
		l = append(l, unknown)
	}
	v.lists[f] = l
	if len(l) == 1 {
		v.str[f] = l[0]
	} else {
		v.str[f] = strings.Join(l, st.separator)
	}
}

func or(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func (v *values) present(f field) bool {
	if f.numeric() {
		return v.num[f] > 0
	}
	return v.str[f] != ""
}

func (v *values) appendField(dst []byte, tok token) []byte {
	if !tok.field.numeric() {
		return append(dst, v.str[tok.field]...)
	}
	n := v.num[tok.field]
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], int64(n), 10)
	for range tok.width - len(d) {
		dst = append(dst, '0')
	}
	return append(dst, d...)
}

// closing returns the bracket that closes open, or 0.
func closing(open byte) byte {
	switch open {
	case '(':
		return ')'
	case '[':
		return ']'
	}
	return 0
}

// render appends one path element, before sanitising, to dst. A
// missing field drops its surrounding literal text: the brackets around it
// (with the space before the opening one), else the separator after it, or
// before it when it is the segment's last field. lits is scratch space.
func (seg *segment) render(dst []byte, v *values, lits []string) ([]byte, []string) {
	missing := false
	for _, tok := range seg.toks {
		if tok.field != fNone && !v.present(tok.field) {
			missing = true
			break
		}
	}
	if !missing {
		for _, tok := range seg.toks {
			if tok.field == fNone {
				dst = append(dst, tok.lit...)
			} else {
				dst = v.appendField(dst, tok)
			}
		}
		return dst, lits
	}

	lits = lits[:0]
	for _, tok := range seg.toks {
		lits = append(lits, tok.lit)
	}
	isLit := func(i int) bool { return i >= 0 && i < len(seg.toks) && seg.toks[i].field == fNone }
	for i, tok := range seg.toks {
		if tok.field == fNone || v.present(tok.field) {
			continue
		}
		prev, next := i-1, i+1
		if isLit(prev) && isLit(next) && lits[prev] != "" && lits[next] != "" {
			open := lits[prev][len(lits[prev])-1]
			if c := closing(open); c != 0 && lits[next][0] == c {
				lits[prev] = strings.TrimRightFunc(lits[prev][:len(lits[prev])-1], unicode.IsSpace)
				lits[next] = lits[next][1:]
				continue
			}
		}
		switch {
		case i == seg.lastField && isLit(prev):
			lits[prev] = ""
		case isLit(next):
			lits[next] = ""
		}
	}
	for i, tok := range seg.toks {
		switch {
		case tok.field == fNone:
			dst = append(dst, lits[i]...)
		case v.present(tok.field):
			dst = v.appendField(dst, tok)
		}
	}
	return dst, lits
}

// finish sanitises a rendered element; one that comes out empty is named
// after its first field ("Unknown Year").
func (seg *segment) finish(s string, isFile bool) string {
	if s = clean(s, isFile); s == "" {
		s = "_"
		if seg.first != fNone {
			s = unknown[seg.first]
		}
	}
	return s
}
