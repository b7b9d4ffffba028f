// Package audiogen builds real, decodable, tagged audio files (FLAC and MP3)
// and deliberately malformed ones, entirely from code, so that tests and
// benchmarks need no binary fixtures. Everything it returns is deterministic.
package audiogen

import (
	"fmt"
	"strconv"
)

// Tags are the values written into a generated file. An empty string or a
// zero number is left out of the file, as a tagger would.
type Tags struct {
	Title       string
	Artist      string
	AlbumArtist string
	Album       string
	Genre       string
	Year        int
	Track       int
	TrackTotal  int
	Disc        int
	DiscTotal   int
}

// SampleRate is the rate of every generated stream, in Hz; all are stereo.
const SampleRate = 44100

// DefaultSeconds is the duration used when options give none.
const DefaultSeconds = 1.0

// yearString renders a year the way taggers do, or "" when absent.
func yearString(y int) string {
	if y <= 0 {
		return ""
	}
	return fmt.Sprintf("%04d", y)
}

// xOfN renders ID3's "n/m" position, "n" without a total, "" without n.
func xOfN(x, n int) string {
	switch {
	case x <= 0:
		return ""
	case n <= 0:
		return strconv.Itoa(x)
	default:
		return strconv.Itoa(x) + "/" + strconv.Itoa(n)
	}
}

// positive renders n, or "" when it is not set.
func positive(n int) string {
	if n <= 0 {
		return ""
	}
	return strconv.Itoa(n)
}

// samplesFor converts a duration to samples per channel, at least one.
func samplesFor(seconds float64) int64 {
	if seconds <= 0 {
		seconds = DefaultSeconds
	}
	return max(int64(seconds*SampleRate+0.5), 1)
}
