package index

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap/zaptest"
)

// v2Value encodes t as schema version 2 did: single artist, album artist
// and genre strings, no reason.
func v2Value(t *Track, artist, albumArtist, genre string) []byte {
	b := binary.AppendVarint(nil, t.Size)
	b = binary.AppendVarint(b, t.ModTime.Unix())
	b = binary.AppendVarint(b, int64(t.ModTime.Nanosecond()))
	var f byte
	if t.Audio {
		f |= flagAudio
	}
	if t.Tagged {
		f |= flagTagged
	}
	b = append(b, f)
	if !t.Tagged {
		return b
	}
	for _, s := range []string{t.Title, artist, albumArtist, t.Album, genre} {
		b = appendString(b, s)
	}
	for _, n := range []int{t.Year, t.Track, t.Disc, t.DiscTotal} {
		b = binary.AppendVarint(b, int64(n))
	}
	return b
}

// An upgrade from schema version 2 keeps every record listed, with its old
// tags, and asks for the tags of every audio file to be read again by the
// next scan: the new readers find more than the old one did.
func TestMigrateFromVersion2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "index.db")
	mtime := time.Date(2020, 1, 2, 3, 4, 5, 6, time.UTC)
	song := &Track{Size: 10, ModTime: mtime, Audio: true, Tagged: true, Title: "T", Album: "Al", Year: 1999, Track: 3, Disc: 1, DiscTotal: 2}
	untagged := &Track{Size: 11, ModTime: mtime, Audio: true}
	cover := &Track{Size: 12, ModTime: mtime}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		meta, _ := tx.CreateBucket(bucketMeta)
		tracks, _ := tx.CreateBucket(bucketTracks)
		tx.CreateBucket(bucketOrigins)
		meta.Put(keyVersion, binary.BigEndian.AppendUint32(nil, 2))
		tracks.Put(appendKey(nil, "lib", "a.mp3"), v2Value(song, "Artist", "Band", "Rock"))
		tracks.Put(appendKey(nil, "lib", "b.flac"), v2Value(untagged, "", "", ""))
		return tracks.Put(appendKey(nil, "lib", "cover.jpg"), v2Value(cover, "", "", ""))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, l, err := openStore(path, newInterner(0), zaptest.NewLogger(t), storeLockQuiet)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.close() })
	if len(l.tracks) != 3 {
		t.Fatalf("%d records after the migration, want 3", len(l.tracks))
	}
	got := l.tracks[0]
	if got.RelPath != "a.mp3" || !got.Tagged || got.Title != "T" || got.Album != "Al" || len(got.Artists) != 1 ||
		got.Artists[0] != "Artist" || got.AlbumArtists[0] != "Band" || got.Genres[0] != "Rock" ||
		got.Year != 1999 || got.Track != 3 || got.DiscTotal != 2 || !got.ModTime.Equal(mtime) {
		t.Fatalf("migrated record %+v", got)
	}
	for _, rel := range []string{"a.mp3", "b.flac"} {
		if _, ok := l.retry[key("lib", rel)]; !ok {
			t.Errorf("%s: tags not asked to be read again", rel)
		}
	}
	if _, ok := l.retry[key("lib", "cover.jpg")]; ok {
		t.Error("cover.jpg: not audio, yet asked to be read again")
	}
	// The store is now of the current version: opened again, nothing changes.
	s.close()
	s, l2, err := openStore(path, newInterner(0), zaptest.NewLogger(t), storeLockQuiet)
	if err != nil {
		t.Fatal(err)
	}
	if len(l2.tracks) != 3 || len(l2.retry) != 2 {
		t.Fatalf("reopened: %d records, %d to read again", len(l2.tracks), len(l2.retry))
	}
}

func TestCodecRoundTrip(t *testing.T) {
	mtime := time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tr := range []*Track{
		{Origin: "o", RelPath: "a.flac", Size: 1, ModTime: mtime, Audio: true, Tagged: true, Compilation: true,
			Title: "T", Artists: []string{"A", "B"}, AlbumArtists: []string{"Various Artists"}, Album: "Al",
			Genres: []string{"Rock", "Live"}, Year: 2001, Track: 2, Disc: 1, DiscTotal: 1},
		{Origin: "o", RelPath: "b.mid", Size: 2, ModTime: mtime, Audio: true, Untagged: ReasonNoReader},
		{Origin: "o", RelPath: "c.txt", Size: 3, ModTime: mtime},
	} {
		d := decoder{in: newInterner(0)}
		var got Track
		retry, err := d.decode(appendKey(nil, tr.Origin, tr.RelPath), appendValue(nil, tr, true), &got)
		if err != nil || !retry {
			t.Fatalf("%s: retry %v, %v", tr.RelPath, retry, err)
		}
		if a, b := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", *tr); a != b {
			t.Errorf("round trip\n got %s\nwant %s", a, b)
		}
	}
	// A damaged reason or list count is a decode error, not a bad record.
	bad := appendValue(nil, &Track{Audio: true, Untagged: nReasons}, false)
	var got Track
	if _, err := (&decoder{in: newInterner(0)}).decode([]byte("o\x00x"), bad, &got); err == nil {
		t.Error("reason out of range decoded")
	}
}
