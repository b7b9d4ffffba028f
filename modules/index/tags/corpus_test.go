package tags_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/musicfs/musicfs/internal/testing/tagcorpus"
	"github.com/musicfs/musicfs/modules/index/tags"
)

// TestCorpus reads every file of the tag corpus (one per format and tag
// edge case, made by ffmpeg, mutagen and Go) and checks, per case:
//
//   - want: tags.Read gives exactly the case's Want, every field, lists
//     as lists (order included);
//   - oracle: wherever ffprobe and mutagen agree on a value, ours is the
//     same.
//
// The oracle's values are the raw text of the tags, so the comparison is
// the one tagcorpus.Compare makes: titles and albums as strings; artists,
// album artists and genres as lists without repeats (Picard's ARTISTS
// list where the file has one); the year as the four-digit year in the
// date, since we return a year and the oracle the date as written
// ("1998-05-08", "08-05-1998"); track and disc numbers as integers, with
// the total from "3/12" or a TRACKTOTAL field, since "03" and "3" are the
// same track; the compilation flag as a boolean. The oracle has no value
// where the tools disagree (ffmpeg reads only the first of several ID3v2.4
// values, for one), so the want check is the stricter of the two; the
// oracle check is independent evidence that Want is what players show.
func TestCorpus(t *testing.T) {
	dir := t.TempDir()
	cases := tagcorpus.Build(t, dir)
	paths := make([]string, len(cases))
	for i, c := range cases {
		paths[i] = filepath.Join(dir, filepath.FromSlash(c.RelPath))
	}
	oracle := tagcorpus.OracleAll(t, paths)

	wantOK, oracleOK, oracleCases := 0, 0, 0
	for i, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			got, err := readCorpusFile(paths[i])
			if t.Run("want", func(t *testing.T) {
				switch {
				case err != nil && !(isZeroExpect(c.Want) && (errors.Is(err, tags.ErrNoReader) || errors.Is(err, tags.ErrNoTags))):
					t.Errorf("%s (%s): %v", c.RelPath, c.Format, err)
				case !reflect.DeepEqual(got, c.Want):
					t.Errorf("%s (%s):\n got %+v\nwant %+v", c.RelPath, c.Format, got, c.Want)
				}
			}) {
				wantOK++
			}
			o := oracle[paths[i]]
			if len(o) == 0 {
				return
			}
			oracleCases++
			if t.Run("oracle", func(t *testing.T) {
				for _, d := range tagcorpus.Compare(o, got) {
					t.Errorf("%s (%s): %s", c.RelPath, c.Format, d)
				}
			}) {
				oracleOK++
			}
		})
	}
	t.Logf("tag corpus: %d/%d cases read as Want; %d/%d agree with the oracle (ffprobe and mutagen), which has values for %d cases",
		wantOK, len(cases), oracleOK, oracleCases, oracleCases)
}

// readCorpusFile reads a file's tags into the corpus's terms; empty lists are nil,
// as in Expect.
func readCorpusFile(path string) (tagcorpus.Expect, error) {
	f, err := os.Open(path)
	if err != nil {
		return tagcorpus.Expect{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return tagcorpus.Expect{}, err
	}
	t, err := tags.Read(f, fi.Size())
	nilIfEmpty := func(vs []string) []string {
		if len(vs) == 0 {
			return nil
		}
		return vs
	}
	return tagcorpus.Expect{
		Title: t.Title, Artists: nilIfEmpty(t.Artists), AlbumArtists: nilIfEmpty(t.AlbumArtists), Album: t.Album,
		Genres: nilIfEmpty(t.Genres), Year: t.Year, Track: t.Track, TrackTotal: t.TrackTotal,
		Disc: t.Disc, DiscTotal: t.DiscTotal, Compilation: t.Compilation,
	}, err
}

func isZeroExpect(e tagcorpus.Expect) bool { return reflect.DeepEqual(e, tagcorpus.Expect{}) }
