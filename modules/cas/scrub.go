package cas

import (
	"errors"
	"io/fs"
	"os"
	"time"

	"go.uber.org/zap"
)

// scrubPause separates scrub passes, so a small cache is not re-read
// continuously.
const scrubPause = time.Minute

// scrubLoop re-hashes every complete blob at cfg.ScrubRate bytes/s and
// drops those that no longer match their name, until Stop.
func (s *Store) scrubLoop() {
	for {
		s.mu.Lock()
		blobs := make([]*blob, 0, len(s.blobs))
		for _, b := range s.blobs {
			blobs = append(blobs, b)
		}
		s.mu.Unlock()
		for _, b := range blobs {
			if !s.scrubBlob(b) {
				return
			}
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(scrubPause):
		}
	}
}

// scrubBlob checks one blob; it reports false when the store is stopping.
func (s *Store) scrubBlob(b *blob) bool {
	s.mu.Lock()
	current := s.blobs[b.hash] == b
	s.mu.Unlock()
	if !current {
		return s.ctx.Err() == nil
	}
	f, err := os.Open(s.path(blobRel(b.hash)))
	if errors.Is(err, fs.ErrNotExist) {
		s.dropBlob(b, "blob file missing", false)
		return s.ctx.Err() == nil
	}
	if err != nil {
		s.log.Warn("scrub blob", zap.String("blob", b.hash), zap.Error(err))
		return s.ctx.Err() == nil
	}
	defer f.Close()
	st, err := fstat(int(f.Fd()))
	if err != nil {
		s.log.Warn("scrub blob", zap.String("blob", b.hash), zap.Error(err))
		return s.ctx.Err() == nil
	}
	s.checkBlob(b, f, st, s.pacer())
	return s.ctx.Err() == nil
}

// pacer returns a pace function for checkBlob that keeps one blob's rehash
// at cfg.ScrubRate bytes/s and reports false once the store is stopping.
func (s *Store) pacer() func(n int64) bool {
	start, done := time.Now(), int64(0)
	return func(n int64) bool {
		done += n
		wait := time.Until(start.Add(time.Duration(float64(done) / float64(s.cfg.ScrubRate) * float64(time.Second))))
		if wait <= 0 {
			return s.ctx.Err() == nil
		}
		timer := time.NewTimer(wait)
		defer timer.Stop()
		select {
		case <-s.ctx.Done():
			return false
		case <-timer.C:
			return true
		}
	}
}
