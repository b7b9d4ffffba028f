package tags

import (
	"slices"
	"strings"
)

// maxValues bounds how many values one field keeps: enough for any real
// credit list, and a broken tag cannot make a track appear in a thousand
// directories.
const maxValues = 32

// merge combines blocks field by field: for each field the richest block
// that has a value gives it, so an empty or missing value in one block never
// hides a real one in another, and a truncated ID3v1 title never beats the
// full ID3v2 one.
func merge(blocks []Block) Tags {
	slices.SortStableFunc(blocks, func(a, b Block) int { return int(a.Kind) - int(b.Kind) })
	var t Tags
	first := func(f Field) []string {
		for i := range blocks {
			if vs := blocks[i].Values[f]; len(vs) > 0 {
				return vs
			}
		}
		return nil
	}
	one := func(f Field) string {
		if vs := first(f); len(vs) > 0 {
			return vs[0]
		}
		return ""
	}
	for _, b := range blocks {
		t.Blocks = append(t.Blocks, b.Kind)
	}
	t.Title = one(Title)
	t.Album = one(Album)
	// Picard writes the display artist ("A feat. B") to ARTIST and the
	// artists themselves to ARTISTS: the list is what a library groups by.
	t.Artists = unique(cmpOr(first(Artists), first(Artist)))
	t.AlbumArtists = unique(cmpOr(first(AlbumArtists), first(AlbumArtist)))
	t.Genres = unique(first(Genre))
	for _, f := range [...]Field{Date, Year, OriginalDate, ReleaseDate} {
		for _, v := range first(f) {
			if t.Year = yearOf(v); t.Year != 0 {
				break
			}
		}
		if t.Year != 0 {
			break
		}
	}
	t.Track, t.TrackTotal = position(one(TrackNumber))
	t.Disc, t.DiscTotal = position(one(DiscNumber))
	if n, _ := position(one(TrackTotal)); n > 0 {
		t.TrackTotal = n
	}
	if n, _ := position(one(DiscTotal)); n > 0 {
		t.DiscTotal = n
	}
	t.Compilation = truthy(one(Compilation))
	return t
}

func cmpOr(a, b []string) []string {
	if len(a) > 0 {
		return a
	}
	return b
}

// unique returns vs without repeats (compared case-insensitively, the first
// spelling kept), at most maxValues of them.
func unique(vs []string) []string {
	if len(vs) == 0 {
		return nil
	}
	out := make([]string, 0, min(len(vs), maxValues))
	for _, v := range vs {
		if !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, v) }) {
			out = append(out, v)
			if len(out) == maxValues {
				break
			}
		}
	}
	return out
}

// truthy reads a flag as taggers write it: "1", "true", "yes".
func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "y":
		return true
	}
	n, _ := position(v)
	return n > 0
}
