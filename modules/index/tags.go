package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime/debug"
	"strings"

	"github.com/musicfs/musicfs/internal/bounded"
	"github.com/musicfs/musicfs/modules/index/tags"
	"github.com/musicfs/musicfs/modules/origins"
)

// audioExts are the extensions (lower case, with the dot) listed as audio:
// those of mpd's usual decoders (ffmpeg, FLAC, Opus, WavPack, modplug,
// wildmidi, …), so that whatever a player lists, the tag views list too.
var audioExts = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`
		mp1 mp2 mp3 mpga mpc mp+ mpp ape wv tta ofr ofs shn tak
		flac oga ogg opus spx m4a m4b m4p m4r mp4 aac adts ac3 dts alac
		wav w64 aif aiff aifc caf au snd dsf dff wma asf mka
		mid midi kar rmi mod xm s3m it mptm 669 mtm med okt stm ult umx`) {
		audioExts["."+e] = true
	}
}

// IsAudio reports whether relpath has a known audio extension (any case).
func IsAudio(relpath string) bool {
	return audioExts[strings.ToLower(path.Ext(relpath))]
}

// maxTagBytes caps what one file's tag parsing may read: far above any real
// set of text tags (pictures are skipped, not read), so only a broken file
// reaches it.
const maxTagBytes = tags.DefaultLimit

// ioError marks a failure of the origin (not of the file's content): such a
// file is read again on the next scan.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// readFileTagsSafely is readFileTags with a panic, from the origin or from
// a tag reader, returned as a *bounded.PanicError.
func readFileTagsSafely(ctx context.Context, o origins.Origin, relpath string, size int64) (t tags.Tags, n int64, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &bounded.PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return readFileTags(ctx, o, relpath, size)
}

// readFileTags opens relpath on o and reads its tags, and says how many
// bytes that read. It stops reading as soon as ctx is done.
func readFileTags(ctx context.Context, o origins.Origin, relpath string, size int64) (tags.Tags, int64, error) {
	f, err := o.Open(ctx, relpath)
	if err != nil {
		return tags.Tags{}, 0, &ioError{fmt.Errorf("open: %w", err)}
	}
	defer f.Close()
	r := &tagReader{ctx: ctx, f: f}
	t, n, err := tags.ReadLimit(r, size, maxTagBytes)
	switch {
	case ctx.Err() != nil:
		return tags.Tags{}, n, ctx.Err()
	case r.ioErr != nil:
		return tags.Tags{}, n, &ioError{fmt.Errorf("read: %w", r.ioErr)}
	}
	return t, n, err
}

// tagReader is the io.ReaderAt the tag readers read through. It checks ctx
// before every read, so a per-file timeout or a shutdown stops a parse, and
// it tells the origin's errors from the file's content.
type tagReader struct {
	ctx   context.Context
	f     origins.File
	ioErr error // the first error of the origin file, as opposed to EOF
}

func (r *tagReader) ReadAt(p []byte, off int64) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := r.f.ReadAt(r.ctx, p, off)
	if err != nil && !errors.Is(err, io.EOF) && r.ioErr == nil {
		r.ioErr = err
	}
	return n, err
}

// reasonOf classifies what tags.ReadLimit returned for a file's content:
// anything but the sentinels is a malformed tag block (*tags.FormatError).
func reasonOf(err error) Reason {
	switch {
	case errors.Is(err, tags.ErrNoTags):
		return ReasonNoTags
	case errors.Is(err, tags.ErrNoReader):
		return ReasonNoReader
	case errors.Is(err, tags.ErrUnknownFormat):
		return ReasonUnknown
	case errors.Is(err, tags.ErrTooLarge):
		return ReasonTooLarge
	}
	return ReasonMalformed
}

// fill copies merged tags into a record.
func fill(t *Track, tg tags.Tags) {
	t.Tagged = true
	t.Title, t.Album = tg.Title, tg.Album
	t.Artists, t.AlbumArtists, t.Genres = tg.Artists, tg.AlbumArtists, tg.Genres
	t.Year, t.Track, t.Disc, t.DiscTotal = tg.Year, tg.Track, tg.Disc, tg.DiscTotal
	t.Compilation = tg.Compilation
}
