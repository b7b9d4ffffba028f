package audiogen

import (
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/musicfs/musicfs/modules/index/tags"
)

func TestLargeTrackLayout(t *testing.T) {
	tests := []struct {
		i    int
		path string
		tags Tags
	}{
		{0, "Artist 0000/Album 00000/01 Track 000000.mp3", Tags{Title: "Track 000000", Artist: "Artist 0000", AlbumArtist: "Artist 0000", Album: "Album 00000", Genre: "Rock", Year: 1960, Track: 1, TrackTotal: 10}},
		{9, "Artist 0000/Album 00000/10 Track 000009.mp3", Tags{Title: "Track 000009", Artist: "Artist 0000", AlbumArtist: "Artist 0000", Album: "Album 00000", Genre: "Rock", Year: 1960, Track: 10, TrackTotal: 10}},
		{12345, "Artist 0123/Album 01234/06 Track 012345.mp3", Tags{Title: "Track 012345", Artist: "Artist 0123", AlbumArtist: "Artist 0123", Album: "Album 01234", Genre: "Electronic", Year: 1960 + 1234%60, Track: 6, TrackTotal: 10}},
	}
	for _, tt := range tests {
		p, got := LargeTrack(tt.i)
		if p != tt.path || got != tt.tags {
			t.Errorf("LargeTrack(%d) = %q %+v\nwant %q %+v", tt.i, p, got, tt.path, tt.tags)
		}
	}
}

func TestWriteLarge(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 500
	}
	const trackBytes = 2048
	dir := t.TempDir()
	start := time.Now()
	if err := WriteLarge(dir, n, trackBytes); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d tracks in %v", n, time.Since(start))
	artists, albums, files := map[string]bool{}, map[string]bool{}, 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		albums[path.Dir(rel)] = true
		artists[strings.Split(rel, "/")[0]] = true
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() != trackBytes || !info.ModTime().Equal(ModTime()) || info.Mode().Perm() != 0o644 {
			t.Errorf("%s: size %d mtime %v mode %v", rel, info.Size(), info.ModTime(), info.Mode())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != n || len(albums) != n/10 || len(artists) != n/100 {
		t.Errorf("%d files, %d albums, %d artists; want %d, %d, %d", files, len(albums), len(artists), n, n/10, n/100)
	}
	for _, i := range []int{0, 1, n / 2, n - 1} {
		p, want := LargeTrack(i)
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		checkTags(t, data, want, "mpeg", tags.ID3v24)
		_, size, _ := walkID3v2(t, data)
		mp3Frames(t, data, 10+size, len(data))
	}
}

func BenchmarkWriteLarge20k(b *testing.B) {
	for b.Loop() {
		if err := WriteLarge(b.TempDir(), 20000, 4096); err != nil {
			b.Fatal(err)
		}
	}
}

func TestWriteBig(t *testing.T) {
	const size = 3<<20 + 12345
	dir := t.TempDir()
	if err := WriteBig(dir, 2, size); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		p, want := BigTrack(i)
		full := filepath.Join(dir, filepath.FromSlash(p))
		data, err := os.ReadFile(full)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) != size {
			t.Errorf("%s: %d bytes, want %d", p, len(data), size)
		}
		switch path.Ext(p) {
		case ".flac":
			checkTags(t, data, want, "flac", tags.Vorbis)
			fi := readFLAC(t, data)
			if fi.md5 != fi.pcmMD5 || fi.total != fi.decoded || fi.minFrame != fi.realMin || fi.maxFrame != fi.realMax {
				t.Errorf("%s: STREAMINFO md5 %x/%x total %d/%d frames %d..%d/%d..%d", p,
					fi.md5, fi.pcmMD5, fi.total, fi.decoded, fi.minFrame, fi.maxFrame, fi.realMin, fi.realMax)
			}
		case ".mp3":
			checkTags(t, data, want, "mpeg", tags.ID3v24)
			_, tagSize, _ := walkID3v2(t, data)
			mp3Frames(t, data, 10+tagSize, len(data))
		default:
			t.Errorf("unexpected big file %s", p)
		}
		if _, err := exec.LookPath("ffmpeg"); err == nil || os.Getenv("CI") == "true" {
			ffmpegNull(t, full)
		}
	}
}

func BenchmarkWriteBig(b *testing.B) {
	const size = 256 << 20
	b.SetBytes(2 * size)
	for b.Loop() {
		if err := WriteBig(b.TempDir(), 2, size); err != nil {
			b.Fatal(err)
		}
	}
}
