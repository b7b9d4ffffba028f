package tags

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/musicfs/musicfs/internal/testing/mounttest"
)

// realFileTag adds a second artist and a 1 MiB cover to a file ffmpeg
// wrote, the way taggers do, with mutagen.
const realFileTag = `
import base64, sys, mutagen
from mutagen.flac import FLAC, Picture
from mutagen.mp4 import MP4, MP4Cover
data = bytes(range(256)) * (1 << 12)
f = mutagen.File(sys.argv[1])
if isinstance(f, MP4):
    f["\xa9ART"] = ["Björk", "Guest"]
    f["covr"] = [MP4Cover(data, MP4Cover.FORMAT_JPEG)]
else:
    f["artist"] = ["Björk", "Guest"]
    p = Picture()
    p.type, p.mime, p.data = 3, "image/jpeg", data
    if isinstance(f, FLAC):
        f.add_picture(p)
    else:
        f["metadata_block_picture"] = [base64.b64encode(p.write()).decode()]
f.save()
`

// Files written by ffmpeg and tagged by mutagen read as both wrote them.
func TestRealFiles(t *testing.T) {
	ffmpeg := mounttest.RequireTool(t, "ffmpeg")
	python := mounttest.RequireTool(t, "/usr/bin/python3")
	dir := t.TempDir()
	for _, tt := range []struct {
		file, format string
		args         []string
	}{
		{"a.flac", "flac", nil},
		{"a.ogg", "ogg-vorbis", []string{"-c:a", "libvorbis"}},
		{"a.opus", "ogg-opus", []string{"-c:a", "libopus"}},
		{"a.spx", "ogg-speex", []string{"-c:a", "libspeex", "-ar", "16000", "-f", "ogg"}},
		{"a.oga", "ogg-flac", []string{"-c:a", "flac", "-f", "ogg"}},
		{"a.m4a", "mp4", []string{"-c:a", "aac"}},
	} {
		t.Run(tt.format, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			args := append([]string{"-v", "error", "-f", "lavfi", "-i", "sine=d=0.3"}, tt.args...)
			args = append(args, "-metadata", "title=Jóga", "-metadata", "artist=Björk", "-metadata", "album_artist=Björk",
				"-metadata", "album=Homogenic", "-metadata", "genre=Electronic", "-metadata", "date=1997-09-22",
				"-metadata", "track=3/12", "-metadata", "disc=1/2", path)
			realFileRun(t, ffmpeg, args...)
			realFileRun(t, python, "-c", realFileTag, path)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, n, err := flacTestRead(data)
			want := Tags{Title: "Jóga", Artists: []string{"Björk", "Guest"}, AlbumArtists: []string{"Björk"},
				Album: "Homogenic", Genres: []string{"Electronic"}, Year: 1997, Track: 3, TrackTotal: 12,
				Disc: 1, DiscTotal: 2, Format: tt.format, Blocks: []Kind{Vorbis}}
			if tt.format == "mp4" {
				want.Blocks = []Kind{MP4}
			}
			flacTestCheck(t, got, err, want, nil)
			t.Logf("read %d bytes of a %d-byte file", n, len(data))
		})
	}
}

func realFileRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(name), err, out)
	}
}
