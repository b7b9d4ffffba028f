package tree

import (
	"errors"
	"fmt"
	"path"
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
type values struct {
	str [nFields]string
	num [nFields]int
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

func (v *values) set(t *index.Track) {
	base := t.RelPath[strings.LastIndexByte(t.RelPath, '/')+1:]
	ext := path.Ext(base)
	filename := base[:len(base)-len(ext)]
	v.str[fExt] = cleanValue(strings.ToLower(strings.TrimPrefix(ext, ".")))
	v.str[fFilename] = cleanValue(filename)
	v.str[fOrigin] = cleanValue(t.Origin)

	artist := or(cleanValue(t.Artist), "Unknown Artist")
	v.str[fArtist] = artist
	v.str[fAlbumArtist] = or(cleanValue(t.AlbumArtist), artist)
	v.str[fAlbum] = or(cleanValue(t.Album), "Unknown Album")
	v.str[fTitle] = or(cleanValue(t.Title), or(v.str[fFilename], "Unknown Title"))
	v.str[fGenre] = or(cleanValue(t.Genre), "Unknown Genre")

	v.num[fYear] = max(t.Year, 0)
	v.num[fTrack] = max(t.Track, 0)
	v.num[fDiscTotal] = max(t.DiscTotal, 0)
	v.num[fDisc] = max(t.Disc, 0)
	if t.Disc <= 1 && t.DiscTotal <= 1 {
		v.num[fDisc] = 0 // a single-disc album shows no disc number
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

// renderPath renders a track into its sanitised path elements below the
// view directory.
func (tpl *template) renderPath(t *index.Track) []string {
	var v values
	v.set(t)
	var buf []byte
	var lits []string
	out := make([]string, len(tpl.segs))
	for i := range tpl.segs {
		seg := &tpl.segs[i]
		buf, lits = seg.render(buf[:0], &v, lits)
		out[i] = seg.finish(string(buf), i == len(tpl.segs)-1)
	}
	return out
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
