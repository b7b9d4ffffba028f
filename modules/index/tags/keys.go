package tags

import "strings"

// keyFields maps the free-form keys of Vorbis comments, APEv2 items, MP4
// freeform atoms and ASF attributes (upper-cased, without the "WM/" or
// "----:com.apple.iTunes:" prefixes) to fields. The spellings are those of
// the taggers in use (Picard, foobar2000, Mp3tag, EasyTag, beets,
// ffmpeg).
var keyFields = map[string]Field{
	"TITLE":               Title,
	"ARTIST":              Artist,
	"AUTHOR":              Artist,
	"ARTISTS":             Artists,
	"ALBUMARTIST":         AlbumArtist,
	"ALBUM ARTIST":        AlbumArtist,
	"ALBUM_ARTIST":        AlbumArtist,
	"ALBUMARTISTS":        AlbumArtists,
	"ALBUM ARTISTS":       AlbumArtists,
	"ALBUM":               Album,
	"ALBUMTITLE":          Album,
	"GENRE":               Genre,
	"DATE":                Date,
	"YEAR":                Year,
	"RECORDINGDATE":       Date,
	"ORIGINALDATE":        OriginalDate,
	"ORIGINALYEAR":        OriginalDate,
	"ORIGINAL YEAR":       OriginalDate,
	"ORIGINALRELEASEYEAR": OriginalDate,
	"RELEASEDATE":         ReleaseDate,
	"TRACKNUMBER":         TrackNumber,
	"TRACK":               TrackNumber,
	"TRACKTOTAL":          TrackTotal,
	"TOTALTRACKS":         TrackTotal,
	"DISCNUMBER":          DiscNumber,
	"DISC":                DiscNumber,
	"PARTOFSET":           DiscNumber,
	"DISCTOTAL":           DiscTotal,
	"TOTALDISCS":          DiscTotal,
	"COMPILATION":         Compilation,
	"ISCOMPILATION":       Compilation,
}

// keyField looks up a free-form key in any case.
func keyField(key string) (Field, bool) {
	f, ok := keyFields[strings.ToUpper(strings.TrimSpace(key))]
	return f, ok
}
