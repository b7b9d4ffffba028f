// Package tags reads the metadata of audio files as players read it: every
// tag block a file carries (ID3v2, ID3v1, APEv2, Vorbis comments, MP4 atoms,
// ASF objects, RIFF INFO, ...), each parsed by a small reader of its own,
// then merged field by field. It does no I/O of its own beyond the
// io.ReaderAt it is given, and reads little: pictures and audio are skipped
// by seeking, never read.
package tags

import (
	"errors"
	"fmt"
)

// Field is a canonical tag field; each reader maps its format's keys to these.
type Field uint8

const (
	Title Field = iota
	Artist
	Artists // Picard's ARTISTS: the list behind a joined display artist
	AlbumArtist
	AlbumArtists
	Album
	Genre
	Date         // recording date, in any common form
	Year         // a year beside the date (ID3 TYER, YEAR): where both are, the date wins
	OriginalDate // original release date
	ReleaseDate
	TrackNumber // "3", "03" or "3/12"
	TrackTotal
	DiscNumber
	DiscTotal
	Compilation // "1", "true", ...
	nFields
)

var fieldNames = [nFields]string{
	Title: "title", Artist: "artist", Artists: "artists", AlbumArtist: "albumartist",
	AlbumArtists: "albumartists", Album: "album", Genre: "genre", Date: "date", Year: "year",
	OriginalDate: "originaldate", ReleaseDate: "releasedate", TrackNumber: "track",
	TrackTotal: "tracktotal", DiscNumber: "disc", DiscTotal: "disctotal", Compilation: "compilation",
}

func (f Field) String() string {
	if f < nFields {
		return fieldNames[f]
	}
	return fmt.Sprintf("field(%d)", f)
}

// Kind names a tag block format. Lower values are richer: when blocks
// disagree, the richer one wins each field it has.
type Kind uint8

const (
	Vorbis Kind = iota // FLAC, Ogg Vorbis/Opus/Speex/FLAC
	MP4
	ASF
	Matroska
	ID3v24
	ID3v23
	ID3v22
	APEv2
	RIFFInfo
	AIFFText
	ID3v1
	Module // the title inside a tracker module
	nKinds
)

var kindNames = [nKinds]string{
	Vorbis: "vorbis", MP4: "mp4", ASF: "asf", Matroska: "matroska", ID3v24: "id3v2.4", ID3v23: "id3v2.3",
	ID3v22: "id3v2.2", APEv2: "apev2", RIFFInfo: "riff-info", AIFFText: "aiff-text",
	ID3v1: "id3v1", Module: "module",
}

func (k Kind) String() string {
	if k < nKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Block is one tag block found in a file: its values per field, in the
// order the block holds them.
type Block struct {
	Kind   Kind
	Values [nFields][]string
}

// Add appends the non-empty values among vs to field f, cleaned of
// surrounding whitespace, NULs and byte-order marks.
func (b *Block) Add(f Field, vs ...string) {
	for _, v := range vs {
		if v = cleanValue(v); v != "" {
			b.Values[f] = append(b.Values[f], v)
		}
	}
}

func (b *Block) empty() bool {
	for _, vs := range b.Values {
		if len(vs) > 0 {
			return false
		}
	}
	return true
}

// Tags are a file's merged metadata. A missing value is empty (or zero).
type Tags struct {
	Title        string
	Artists      []string // each artist once, in tag order
	AlbumArtists []string
	Album        string
	Genres       []string
	Year         int // a plausible four-digit year, or 0
	Track        int
	TrackTotal   int
	Disc         int
	DiscTotal    int
	Compilation  bool

	Format string // the container, e.g. "mp3", "flac", "ogg-opus"
	Blocks []Kind // the tag blocks found, richest first
}

// Errors of Read. Anything else is a malformed block (a *FormatError) or an
// error of the io.ReaderAt, returned as it is.
var (
	// ErrUnknownFormat: the content matches no audio format we know.
	ErrUnknownFormat = errors.New("unrecognised audio format")
	// ErrNoReader: a format known to carry no tags we read (MIDI, say).
	ErrNoReader = errors.New("no tag reader for this format")
	// ErrNoTags: a known format, with no tag block in it.
	ErrNoTags = errors.New("no tags")
	// ErrTooLarge: reading the tags would take more than the read limit.
	ErrTooLarge = errors.New("tag data over the read limit")
)

// FormatError is a tag block that could not be parsed.
type FormatError struct {
	Block string // "id3v2", "mp4", ...
	Off   int64  // where in the file
	Err   error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s at offset %d: %v", e.Block, e.Off, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

func malformed(block string, off int64, format string, args ...any) error {
	return &FormatError{Block: block, Off: off, Err: fmt.Errorf(format, args...)}
}
