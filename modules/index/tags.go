package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode"

	"github.com/dhowden/tag"

	"github.com/musicfs/musicfs/modules/origins"
)

// audioExts are the extensions (lower case, with the dot) listed as audio.
var audioExts = map[string]bool{
	".mp3": true, ".mp2": true, ".flac": true, ".ogg": true, ".oga": true,
	".opus": true, ".m4a": true, ".m4b": true, ".mp4": true, ".aac": true,
	".alac": true, ".wav": true, ".aif": true, ".aiff": true, ".wv": true,
	".ape": true, ".mpc": true, ".dsf": true, ".dff": true, ".wma": true,
}

// IsAudio reports whether relpath has a known audio extension (any case).
func IsAudio(relpath string) bool {
	return audioExts[strings.ToLower(path.Ext(relpath))]
}

// maxTagBytes caps what one file's tag parsing may read. dhowden/tag reads a
// frame or atom whole, so a garbage size in a large file would otherwise
// pull hundreds of MiB into memory; real tags with cover art stay far below.
const maxTagBytes = 64 << 20

var errTagTooLarge = fmt.Errorf("tag data larger than %d MiB", maxTagBytes>>20)

// tags is what a file's metadata maps to.
type tags struct {
	title, artist, albumArtist, album, genre string
	year, track, disc, discTotal             int
}

// ioError marks a failure of the origin (not of the file's content): such a
// file is read again on the next scan.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// readFileTags opens relpath on o and parses its tags. It stops reading as
// soon as ctx is done. A panic, from the origin or from the tag parser, is
// contained by its caller (readTrack, through bounded.Call).
func readFileTags(ctx context.Context, o origins.Origin, relpath string, size int64) (tags, error) {
	f, err := o.Open(relpath)
	if err != nil {
		return tags{}, &ioError{fmt.Errorf("open: %w", err)}
	}
	defer f.Close()
	r := &tagReader{ctx: ctx, sr: io.NewSectionReader(f, 0, size), budget: maxTagBytes}
	md, err := tag.ReadFrom(r)
	switch {
	case ctx.Err() != nil:
		return tags{}, ctx.Err()
	case r.ioErr != nil:
		return tags{}, &ioError{fmt.Errorf("read: %w", r.ioErr)}
	case r.budget <= 0 && err != nil:
		return tags{}, errTagTooLarge
	case err != nil:
		return tags{}, err
	}
	return mapTags(md), nil
}

// tagReader is the io.ReadSeeker the tag parser reads through. It checks ctx
// before every read, so a per-file timeout or a shutdown stops a parse that
// is walking through a huge or stalled file, and it caps the bytes read.
type tagReader struct {
	ctx    context.Context
	sr     *io.SectionReader
	budget int64
	ioErr  error // the first error of the origin file, as opposed to EOF
}

func (r *tagReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	if r.budget <= 0 {
		return 0, errTagTooLarge
	}
	if int64(len(p)) > r.budget {
		p = p[:r.budget]
	}
	n, err := r.sr.Read(p)
	r.budget -= int64(n)
	if err != nil && !errors.Is(err, io.EOF) && r.ioErr == nil {
		r.ioErr = err
	}
	return n, err
}

func (r *tagReader) Seek(offset int64, whence int) (int64, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.sr.Seek(offset, whence)
}

// mapTags turns parsed metadata into our fields: strings trimmed (invalid
// UTF-8 is left for the tree to sanitise), blank values and nonsense numbers
// treated as missing.
func mapTags(md tag.Metadata) tags {
	t := tags{
		title:       clean(md.Title()),
		artist:      clean(md.Artist()),
		albumArtist: clean(md.AlbumArtist()),
		album:       clean(md.Album()),
		genre:       clean(md.Genre()),
		year:        md.Year(),
	}
	t.track, _ = md.Track()
	t.disc, t.discTotal = md.Disc()
	if md.Format() == tag.VORBIS {
		// dhowden/tag gives 0 for "3/12" track numbers and year 1 for dates
		// it cannot parse ("2001-05-01T00:00"); both are common in the wild.
		raw := md.Raw()
		if t.year <= 1 {
			t.year = leadingInt(raw["date"])
			if t.year == 0 {
				t.year = leadingInt(raw["year"])
			}
		}
		if t.track == 0 {
			t.track = leadingInt(raw["tracknumber"])
		}
		if t.disc == 0 {
			t.disc = leadingInt(raw["discnumber"])
		}
	}
	if t.year < 1 || t.year > 9999 {
		t.year = 0
	}
	t.track, t.disc, t.discTotal = max(t.track, 0), max(t.disc, 0), max(t.discTotal, 0)
	return t
}

func clean(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == 0 })
}

// leadingInt parses the digits at the start of v ("3/12" → 3), or 0.
func leadingInt(v any) int {
	s, _ := v.(string)
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && end < 9 && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}
