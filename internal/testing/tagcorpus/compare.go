package tagcorpus

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Compare checks a reader's result against the oracle's agreed values
// and describes each field where they differ. Only fields the oracle has
// are compared, each as a player shows it:
//
//   - title and album: the first value, as a string;
//   - artists and album artists: Picard's ARTISTS/ALBUMARTISTS list where
//     the file has one, else the ARTIST (album artist) values, as lists;
//   - genres: as a list;
//   - year: the four-digit year in the date (or, without a date, the
//     original date), 0 when there is none: the raw text of a date ("1998-05-08",
//     "08-05-1998") is not what a reader returns;
//   - track and disc: as integers, "03" being 3 and "3/12" giving a total
//     of 12; TRACKTOTAL and DISCTOTAL likewise;
//   - compilation: as a flag, "1" being true.
//
// Text is compared after dropping byte-order marks (U+FEFF, an artefact
// of UTF-16, never text) and surrounding space, and lists without repeats
// (compared case-insensitively, the first kept), as the readers' contract
// has them.
func Compare(oracle map[string][]string, got Expect) []string {
	var diffs []string
	diff := func(field string, want, have any) {
		diffs = append(diffs, fmt.Sprintf("%s: oracle %q, got %q", field, want, have))
	}
	str := func(field, have string) {
		if vs, ok := oracle[field]; ok {
			if want := clean(vs[0]); want != have {
				diff(field, want, have)
			}
		}
	}
	lst := func(field string, have []string) bool {
		vs, ok := oracle[field]
		if !ok {
			return false
		}
		if want := uniq(vs); !slices.Equal(want, have) {
			diff(field, want, have)
		}
		return true
	}
	intf := func(field string, want, have int) {
		if want != have {
			diff(field, strconv.Itoa(want), strconv.Itoa(have))
		}
	}
	str(FieldTitle, got.Title)
	str(FieldAlbum, got.Album)
	if !lst(FieldArtists, got.Artists) {
		lst(FieldArtist, got.Artists)
	}
	if !lst(FieldAlbumArtists, got.AlbumArtists) {
		lst(FieldAlbumArtist, got.AlbumArtists)
	}
	lst(FieldGenre, got.Genres)
	if y, ok := oracleYear(oracle); ok {
		intf("year", y, got.Year)
	}
	for _, p := range []struct {
		field, totalField string
		n, total          int
	}{{FieldTrack, FieldTrackTotal, got.Track, got.TrackTotal}, {FieldDisc, FieldDiscTotal, got.Disc, got.DiscTotal}} {
		if vs, ok := oracle[p.field]; ok {
			n, total := position(vs[0])
			intf(p.field, n, p.n)
			if total > 0 {
				intf(p.totalField, total, p.total)
			}
		}
		if vs, ok := oracle[p.totalField]; ok {
			n, _ := position(vs[0])
			intf(p.totalField, n, p.total)
		}
	}
	if vs, ok := oracle[FieldCompilation]; ok {
		if want := truthy(vs[0]); want != got.Compilation {
			diff(FieldCompilation, strconv.FormatBool(want), strconv.FormatBool(got.Compilation))
		}
	}
	return diffs
}

func clean(s string) string {
	return strings.TrimSpace(strings.ReplaceAll(s, "\uFEFF", ""))
}

func uniq(vs []string) []string {
	var out []string
	for _, v := range vs {
		v = clean(v)
		if v != "" && !slices.ContainsFunc(out, func(o string) bool { return strings.EqualFold(o, v) }) {
			out = append(out, v)
		}
	}
	return out
}

// oracleYear is the year of the oracle's date, or of its original date
// when the date has none.
func oracleYear(oracle map[string][]string) (int, bool) {
	found := false
	for _, f := range []string{FieldDate, FieldOriginalDate} {
		if vs, ok := oracle[f]; ok {
			found = true
			if y := yearOf(vs[0]); y != 0 {
				return y, true
			}
		}
	}
	return 0, found
}

// yearOf is the first run of exactly four digits in s that is a plausible
// year (1000–2999), or 0: "8" and "'98" have none.
func yearOf(s string) int {
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j-i == 4 {
			if y, _ := strconv.Atoi(s[i:j]); y >= 1000 && y <= 2999 {
				return y
			}
		}
		i = max(j, i+1)
	}
	return 0
}

// position reads "3", "03" or "3/12"; what is not a number is 0.
func position(s string) (n, total int) {
	a, b, _ := strings.Cut(strings.TrimSpace(s), "/")
	n, _ = strconv.Atoi(strings.TrimSpace(a))
	total, _ = strconv.Atoi(strings.TrimSpace(b))
	return n, total
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes":
		return true
	}
	return false
}
