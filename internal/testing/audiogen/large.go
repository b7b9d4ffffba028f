package audiogen

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sync"
)

// largeGenres cycles per artist in the large library.
var largeGenres = [...]string{"Rock", "Jazz", "Pop", "Blues", "Electronic", "Classical", "Folk"}

// LargeTrack returns track i of the WriteLarge library: its path and tags.
// Ten tracks make an album, ten albums an artist.
func LargeTrack(i int) (relPath string, t Tags) {
	album, artist := i/10, i/100
	t = Tags{
		Title:       fmt.Sprintf("Track %06d", i),
		Artist:      fmt.Sprintf("Artist %04d", artist),
		Album:       fmt.Sprintf("Album %05d", album),
		Genre:       largeGenres[artist%len(largeGenres)],
		Year:        1960 + album%60,
		Track:       i%10 + 1,
		TrackTotal:  10,
		AlbumArtist: fmt.Sprintf("Artist %04d", artist),
	}
	return fmt.Sprintf("%s/%s/%02d %s.mp3", t.Artist, t.Album, t.Track, t.Title), t
}

// WriteLarge writes n MP3s (ID3v2.4, silent) laid out by LargeTrack under
// dir, each exactly trackBytes long (or the smallest valid file, one frame,
// if trackBytes is smaller), with ModTime and mode 0644.
func WriteLarge(dir string, n, trackBytes int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write large library: %w", err)
	}
	albums := (n + 9) / 10
	jobs := make(chan int)
	errs := make([]error, 4)
	var wg sync.WaitGroup
	for w := range errs {
		wg.Go(func() {
			for album := range jobs {
				if errs[w] == nil {
					errs[w] = writeLargeAlbum(dir, album, n, trackBytes)
				}
			}
		})
	}
	for a := range albums {
		jobs <- a
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write large library: %w", err)
	}
	dirs := map[string]bool{dir: true}
	for a := range albums {
		p, _ := LargeTrack(a * 10)
		addParents(dirs, dir, p)
	}
	return touchDirs(dirs)
}

func writeLargeAlbum(dir string, album, n, trackBytes int) error {
	for i := album * 10; i < min(album*10+10, n); i++ {
		p, t := LargeTrack(i)
		p = filepath.Join(dir, filepath.FromSlash(p))
		if i == album*10 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
		}
		if err := writeFile(p, sizedMP3(t, int64(trackBytes), int64(i))); err != nil {
			return err
		}
	}
	return nil
}

// sizedMP3 is an ID3v2.4-tagged MP3 of exactly size bytes when size allows
// one frame, the ID3 padding absorbing what whole frames cannot.
func sizedMP3(t Tags, size, seed int64) []byte {
	frames, pad := mp3Fit(t, size)
	return MP3(t, MP3Options{ID3v2: 4, Frames: int(frames), Seed: seed, ID3Padding: int(pad)})
}

// mp3Fit returns how many frames and how much ID3 padding make an
// ID3v2.4-tagged file of size bytes: at least one frame, at least
// minID3Padding of padding.
func mp3Fit(t Tags, size int64) (frames, padding int64) {
	base := int64(len(id3v2Tag(4, id3v2Frames(4, t), 0)))
	avail := size - base
	frames = max(avail*SampleRate/(mp3FrameLen*SampleRate+mp3FrameRem), 1)
	for frames > 1 && mp3AudioLen(frames) > avail {
		frames--
	}
	return frames, minID3Padding + max(avail-mp3AudioLen(frames), 0)
}

// BigTrack returns file i of the WriteBig library: even files are FLAC,
// odd ones MP3.
func BigTrack(i int) (relPath string, t Tags) {
	ext := "flac"
	if i%2 == 1 {
		ext = "mp3"
	}
	t = Tags{
		Title: fmt.Sprintf("Big Track %03d", i), Artist: "Big Artist", AlbumArtist: "Big Artist",
		Album: "Big Album", Genre: "Ambient", Year: 2024, Track: i + 1,
	}
	return fmt.Sprintf("Big Artist/Big Album/%03d Big Track %03d.%s", i+1, i, ext), t
}

func bigSeed(i int) int64 { return int64(i)*7919 + 1 }

// WriteBig writes files large tracks of exactly size bytes each, laid out by
// BigTrack, for throughput benchmarks. FLAC files carry a VERBATIM tone
// (about 4 bytes per sample, so real decoding work), MP3s silent frames.
// Both are streamed, never held in memory.
func WriteBig(dir string, files int, size int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("write big library: %w", err)
	}
	dirs := map[string]bool{dir: true}
	for i := range files {
		rel, t := BigTrack(i)
		p := filepath.Join(dir, filepath.FromSlash(rel))
		addParents(dirs, dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write big library: %w", err)
		}
		write := writeBigMP3
		if path.Ext(rel) == ".flac" {
			write = writeBigFLAC
		}
		if err := write(p, t, size, bigSeed(i)); err != nil {
			return fmt.Errorf("write big library: %s: %w", rel, err)
		}
		if err := os.Chtimes(p, ModTime(), ModTime()); err != nil {
			return fmt.Errorf("write big library: %w", err)
		}
	}
	return touchDirs(dirs)
}

func writeBigMP3(p string, t Tags, size, seed int64) error {
	frames, pad := mp3Fit(t, size)
	return createFile(p, func(f *os.File) error {
		if _, err := f.Write(id3v2Tag(4, id3v2Frames(4, t), int(pad))); err != nil {
			return err
		}
		return writeMP3Frames(f, frames, seed)
	})
}

func writeBigFLAC(p string, t Tags, size, seed int64) error {
	s := flacStream{seed: seed, comments: vorbisComments(t), padding: 0}
	if err := s.fit(size); err != nil {
		return err
	}
	return createFile(p, func(f *os.File) error {
		if _, err := f.Write(s.header(flacSummary{})); err != nil {
			return err
		}
		bw := bufio.NewWriterSize(f, 1<<20)
		sum, err := s.writeFrames(bw)
		if err != nil {
			return err
		}
		if err := bw.Flush(); err != nil {
			return err
		}
		// STREAMINFO's MD5 and frame sizes are known only now.
		_, err = f.WriteAt(s.header(sum)[:flacHeaderPatchEnd], 0)
		return err
	})
}

// fit chooses samples and padding so that the stream is exactly size bytes.
func (s *flacStream) fit(size int64) error {
	s.padding = 0
	avail := size - int64(len(s.header(flacSummary{})))
	if flacAudioLen(1, s.silence) > avail {
		return fmt.Errorf("%d bytes is too small for a FLAC file", size)
	}
	lo, hi := int64(1), max(avail/4, 1) // a VERBATIM sample is at least 4 bytes
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if flacAudioLen(mid, s.silence) <= avail {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	s.samples = lo
	s.padding = int(avail - flacAudioLen(lo, s.silence))
	if s.padding >= 1<<24 {
		return fmt.Errorf("FLAC of %d bytes would need %d bytes of padding", size, s.padding)
	}
	return nil
}

// flacAudioLen is the byte length of the frames appendFrame writes for
// samples samples.
func flacAudioLen(samples int64, silence bool) int64 {
	var total int64
	for num, first := int64(0), int64(0); first < samples; num, first = num+1, first+FLACBlockSize {
		n := min(FLACBlockSize, samples-first)
		hdr := int64(4 + len(appendUTF8Num(nil, uint64(num))) + 1)
		switch {
		case n == FLACBlockSize:
		case n <= 256:
			hdr++
		default:
			hdr += 2
		}
		sub := 1 + 2*n
		if silence {
			sub = 3
		}
		total += hdr + 2*sub + 2
	}
	return total
}

func createFile(p string, write func(*os.File) error) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
