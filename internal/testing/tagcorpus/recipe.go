package tagcorpus

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// A recipe makes one case's file in three steps: encode (Go bytes, or
// ffmpeg and perhaps a second encoder reading its WAV output), tag (mutagen
// ops, all files in one Python run), then post (Go rewriting the bytes).
type recipe struct {
	Case
	gen    func() []byte
	ffmpeg []string // ffmpeg output options: codec, muxer, -metadata
	pipe   []string // an encoder reading WAV on stdin; its last argument is the output path
	ops    []op
	post   func([]byte) ([]byte, error)
}

func (r *recipe) path(dir string) string { return filepath.Join(dir, filepath.FromSlash(r.RelPath)) }

// key names the encoding: recipes with the same key share one ffmpeg run.
func (r *recipe) key() string {
	if r.gen != nil {
		return "go:" + r.RelPath
	}
	return strings.Join(r.ffmpeg, "\x00") + "\x01" + strings.Join(r.pipe, "\x00") + "\x01" + filepath.Ext(r.RelPath)
}

// toneSeconds is the length of every encoded file.
const toneSeconds = "0.3"

func ffmpegInput() []string {
	return []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-threads", "1",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100:duration=" + toneSeconds,
		"-ac", "2", "-map_metadata", "-1", "-fflags", "+bitexact", "-flags:a", "+bitexact"}
}

func (r *recipe) encode(out string) error {
	if r.gen != nil {
		return os.WriteFile(out, r.gen(), 0o644)
	}
	if r.pipe == nil {
		args := append(append(ffmpegInput(), r.ffmpeg...), "-y", out)
		if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ffmpeg %s: %v\n%s", strings.Join(args, " "), err, b)
		}
		return nil
	}
	src := exec.Command("ffmpeg", append(append(ffmpegInput(), r.ffmpeg...), "-f", "wav", "-")...)
	dst := exec.Command(r.pipe[0], append(r.pipe[1:], out)...)
	pr, pw := io.Pipe()
	var srcErr, dstErr bytes.Buffer
	src.Stdout, src.Stderr = pw, &srcErr
	dst.Stdin, dst.Stdout, dst.Stderr = pr, &dstErr, &dstErr
	if err := dst.Start(); err != nil {
		return err
	}
	err := src.Run()
	pw.CloseWithError(err)
	if werr := dst.Wait(); werr != nil && err == nil {
		return fmt.Errorf("%s: %v\n%s", r.pipe[0], werr, dstErr.Bytes())
	}
	if err != nil {
		return fmt.Errorf("ffmpeg: %v\n%s", err, srcErr.Bytes())
	}
	return nil
}

// An op is one mutagen step of tag.py.
type op struct {
	Op        string `json:"op"`
	Container string `json:"container,omitempty"`
	Version   int    `json:"version,omitempty"`
	V1        int    `json:"v1,omitempty"`
	Frames    []kv   `json:"frames,omitempty"`
	Items     []kv   `json:"items,omitempty"`
}

// A kv is a key and its values, in JSON [key, [values...]].
type kv struct {
	k string
	v []string
}

func (x kv) MarshalJSON() ([]byte, error) { return json.Marshal([]any{x.k, x.v}) }

func id3Op(container string, ver int, frames ...kv) op {
	return op{Op: "id3", Container: container, Version: ver, Frames: frames}
}
func apeOp(items ...kv) op    { return op{Op: "ape", Items: items} }
func vorbisOp(items ...kv) op { return op{Op: "vorbis", Items: items} }
func mp4Op(items ...kv) op    { return op{Op: "mp4", Items: items} }
func asfOp(items ...kv) op    { return op{Op: "asf", Items: items} }

func kvs(pairs ...any) []kv {
	var out []kv
	for i := 0; i+1 < len(pairs); i += 2 {
		var vs []string
		switch v := pairs[i+1].(type) {
		case string:
			if v != "" {
				vs = []string{v}
			}
		case []string:
			vs = v
		default:
			panic(fmt.Sprintf("tagcorpus: value %T", v))
		}
		if len(vs) > 0 {
			out = append(out, kv{pairs[i].(string), vs})
		}
	}
	return out
}

// The tags of w, as each format's taggers write them.

func year(w Expect) string {
	if w.Year == 0 {
		return ""
	}
	return strconv.Itoa(w.Year)
}

func num(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}

func ofTotal(n, total int) string {
	if n == 0 {
		return ""
	}
	if total == 0 {
		return strconv.Itoa(n)
	}
	return strconv.Itoa(n) + "/" + strconv.Itoa(total)
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return ""
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func id3Frames(w Expect) []kv {
	return kvs("TIT2", w.Title, "TPE1", w.Artists, "TPE2", w.AlbumArtists, "TALB", w.Album,
		"TCON", w.Genres, "TDRC", year(w), "TRCK", ofTotal(w.Track, w.TrackTotal),
		"TPOS", ofTotal(w.Disc, w.DiscTotal), "TCMP", flag(w.Compilation))
}

func vorbisItems(w Expect) []kv {
	return kvs("TITLE", w.Title, "ARTIST", w.Artists, "ALBUMARTIST", w.AlbumArtists, "ALBUM", w.Album,
		"GENRE", w.Genres, "DATE", year(w), "TRACKNUMBER", num(w.Track), "TRACKTOTAL", num(w.TrackTotal),
		"DISCNUMBER", num(w.Disc), "DISCTOTAL", num(w.DiscTotal), "COMPILATION", flag(w.Compilation))
}

func apeItems(w Expect) []kv {
	return kvs("Title", w.Title, "Artist", w.Artists, "Album Artist", w.AlbumArtists, "Album", w.Album,
		"Genre", w.Genres, "Year", year(w), "Track", ofTotal(w.Track, w.TrackTotal),
		"Disc", ofTotal(w.Disc, w.DiscTotal), "Compilation", flag(w.Compilation))
}

func mp4Items(w Expect) []kv {
	return kvs("©nam", w.Title, "©ART", w.Artists, "aART", w.AlbumArtists, "©alb", w.Album,
		"©gen", w.Genres, "©day", year(w), "trkn", ofTotal(w.Track, w.TrackTotal),
		"disk", ofTotal(w.Disc, w.DiscTotal), "cpil", flag(w.Compilation))
}

// asfItems: WM/TrackNumber is a bare number, as Windows Media Player
// writes it (ASF has no track total).
func asfItems(w Expect) []kv {
	return kvs("Title", w.Title, "Author", w.Artists, "WM/AlbumArtist", w.AlbumArtists, "WM/AlbumTitle", w.Album,
		"WM/Genre", w.Genres, "WM/Year", year(w), "WM/TrackNumber", num(w.Track),
		"WM/PartOfSet", ofTotal(w.Disc, w.DiscTotal), "WM/IsCompilation", flag(w.Compilation))
}

// ffmpegMeta: ffmpeg's generic keys, which each muxer maps to its own.
func ffmpegMeta(w Expect) []string {
	var out []string
	for _, p := range kvs("title", w.Title, "artist", w.Artists, "album_artist", w.AlbumArtists, "album", w.Album,
		"genre", w.Genres, "date", year(w), "track", ofTotal(w.Track, w.TrackTotal),
		"disc", ofTotal(w.Disc, w.DiscTotal)) {
		out = append(out, "-metadata", p.k+"="+strings.Join(p.v, ";"))
	}
	return out
}

// prepend returns a post step that puts tag in front of the file.
func prepend(tag []byte) func([]byte) ([]byte, error) {
	return func(b []byte) ([]byte, error) { return append(append([]byte(nil), tag...), b...), nil }
}
