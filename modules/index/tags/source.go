package tags

import (
	"errors"
	"io"
)

// window is how much source reads from the file at a time. Tag parsing
// makes many small reads close together; one read of a window serves them.
const window = 32 << 10

// DefaultLimit is the most Read reads from one file unless told otherwise:
// far above any real set of text tags, which is all that is read.
const DefaultLimit = 16 << 20

// source is the file being parsed: reads go through a one-window cache and
// are counted against a limit, so no garbage size in a broken file can make
// a reader pull a large file into memory.
type source struct {
	r       io.ReaderAt
	size    int64
	win     []byte
	scratch []byte // peek's buffer
	winOff  int64
	fetched int64 // bytes read from r
	limit   int64
	// err is the first failure of r (other than a short file) or
	// ErrTooLarge. It is sticky: once set, Read returns it whatever the
	// readers made of it, so an I/O error is never taken for a broken tag.
	err error
}

func newSource(r io.ReaderAt, size, limit int64) *source {
	return &source{r: r, size: size, limit: limit, winOff: -1}
}

// at returns up to n bytes at off: fewer only at the end of the file, none
// past it. The slice is valid until the next call; callers copy what they keep.
func (s *source) at(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 {
		return nil, errors.New("negative offset or length")
	}
	if off >= s.size {
		return nil, nil
	}
	if rest := s.size - off; int64(n) > rest {
		n = int(rest)
	}
	if b, ok := s.cached(off, n); ok {
		return b, nil
	}
	if n > window {
		if s.fetched+int64(n) > s.limit { // before allocating
			s.err = ErrTooLarge
			return nil, s.err
		}
		return s.fetch(off, n, make([]byte, n))
	}
	size := min(int64(window), s.size-off)
	if cap(s.win) < window {
		s.win = make([]byte, window)
	}
	b, err := s.fetch(off, int(size), s.win[:size])
	if err != nil {
		s.winOff = -1
		return nil, err
	}
	s.win, s.winOff = b, off
	return b[:min(n, len(b))], nil
}

// cached returns the n bytes at off if the window holds them.
func (s *source) cached(off int64, n int) ([]byte, bool) {
	if s.winOff >= 0 && off >= s.winOff && off+int64(n) <= s.winOff+int64(len(s.win)) {
		i := off - s.winOff
		return s.win[i : i+int64(n)], true
	}
	return nil, false
}

// peek is at for a reader hopping through a file (page headers between
// skipped pages): a miss reads just the n bytes asked for, not a window.
func (s *source) peek(off int64, n int) ([]byte, error) {
	if off < 0 || n < 0 || n > window {
		return nil, errors.New("bad peek")
	}
	if off >= s.size {
		return nil, nil
	}
	n = int(min(int64(n), s.size-off))
	if b, ok := s.cached(off, n); ok {
		return b, nil
	}
	if cap(s.scratch) < n {
		s.scratch = make([]byte, n)
	}
	return s.fetch(off, n, s.scratch[:n])
}

func (s *source) fetch(off int64, n int, buf []byte) ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	if s.fetched+int64(n) > s.limit {
		s.err = ErrTooLarge
		return nil, s.err
	}
	got, err := s.r.ReadAt(buf[:n], off)
	s.fetched += int64(got)
	switch {
	case err == nil || got == n:
		return buf[:n], nil
	case errors.Is(err, io.EOF):
		return buf[:got], nil // the file is shorter than its size said
	}
	s.err = err
	return nil, err
}

// full returns exactly n bytes at off, or an error naming what is missing.
func (s *source) full(off int64, n int) ([]byte, error) {
	b, err := s.at(off, n)
	if err != nil {
		return nil, err
	}
	if len(b) < n {
		return nil, io.ErrUnexpectedEOF
	}
	return b, nil
}

// has reports whether the n bytes at off start with prefix.
func (s *source) has(off int64, prefix string) bool {
	b, err := s.at(off, len(prefix))
	return err == nil && string(b) == prefix
}
