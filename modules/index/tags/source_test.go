package tags

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
)

// A file shorter than its size said (truncated between stat and read)
// gives the bytes it has, never stale ones from the window.
func TestSourceShortReader(t *testing.T) {
	s := newSource(bytes.NewReader(bytes.Repeat([]byte{'x'}, 100)), 200, DefaultLimit)
	b, err := s.at(0, 150)
	if err != nil || len(b) != 100 {
		t.Fatalf("at(0, 150) of a 100-byte reader: %d bytes, %v", len(b), err)
	}
	if b, err := s.full(50, 100); err == nil {
		t.Fatalf("full(50, 100) of a 100-byte reader: %d bytes, no error", len(b))
	}
}

type zeros struct{}

func (zeros) ReadAt(p []byte, off int64) (int, error) { clear(p); return len(p), nil }

// A garbage size asks for a huge read: refused before anything is allocated.
func TestSourceAllocatesWithinLimit(t *testing.T) {
	s := newSource(zeros{}, 1<<30, 1<<20)
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	if _, err := s.at(0, 512<<20); !errors.Is(err, ErrTooLarge) {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&b)
	if n := b.TotalAlloc - a.TotalAlloc; n > 2<<20 {
		t.Errorf("allocated %d bytes", n)
	}
}

// Skipping a picture that spans thousands of Ogg pages reads their headers
// (one small read each), not a window of page bodies for each.
func TestOggPictureBytesRead(t *testing.T) {
	comment := vorbisTestComment("enc", "TITLE=t", "METADATA_BLOCK_PICTURE="+strings.Repeat("A", 5<<20), "ARTIST=a")
	for _, maxSegs := range []int{16, 255} {
		data := bytes.Join(oggTestStream(7, maxSegs, oggTestPackets("opus", comment)...), nil)
		got, n, err := ReadLimit(bytes.NewReader(data), int64(len(data)), DefaultLimit)
		if err != nil || got.Title != "t" || len(got.Artists) != 1 {
			t.Fatal(got, err)
		}
		if n > int64(len(data)/10) { // a page header per 4 KiB page

			t.Errorf("%d-segment pages: read %d of %d bytes", maxSegs, n, len(data))
		}
	}
}

// An APE tag at the very end may follow the ID3v1 tag instead of preceding it.
func TestID3v1BeforeAPE(t *testing.T) {
	file := apeTestConcat(apeTestMP3(), apeTestID3v1("v1 title", "v1 artist", "", "1999", 0, 255),
		apeTestTag(false, apeTestText("Title", "APE")))
	got := readersTestRead(t, file)
	if got.Title != "APE" || len(got.Artists) == 0 || got.Artists[0] != "v1 artist" || got.Year != 1999 {
		t.Errorf("got %+v", got)
	}
}
