package cas

import (
	"os"
	"time"

	"go.uber.org/zap"
)

// guardLoop watches the blobs Readers hold open, which the kernel may be
// reading through passthrough with no check of ours: every
// OpenCheckInterval each one's file is checked for a change (any write
// moves its stamp), and a changed one is hashed at once; every
// OpenScrubInterval each one is rehashed anyway, at the scrub rate, for
// damage below the filesystem. What it finds damaged is repaired in place
// (see blobDamaged). It keeps its own descriptors: a Reader's may be
// closed at any time.
func (s *Store) guardLoop() {
	files := map[*blob]*os.File{}
	defer func() {
		for _, f := range files {
			_ = f.Close()
		}
	}()
	tick := time.NewTicker(s.cfg.OpenCheckInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		s.guardOnce(files)
	}
}

// guardOnce is one round of guardLoop; files are its descriptors, by blob.
func (s *Store) guardOnce(files map[*blob]*os.File) {
	s.mu.Lock()
	open := map[*blob]bool{}
	for _, b := range s.blobs {
		if len(b.readers) > 0 && b.repairing == nil {
			open[b] = true
		}
	}
	s.mu.Unlock()
	for b, f := range files {
		if !open[b] {
			_ = f.Close()
			delete(files, b)
		}
	}
	for b := range open {
		if s.ctx.Err() != nil {
			return
		}
		f := files[b]
		if f == nil {
			var err error
			if f, err = os.Open(s.path(blobRel(b.hash))); err != nil {
				// Its Readers find out for themselves, and the scrub drops it.
				s.log.Debug("open blob to watch it", zap.String("blob", b.hash), zap.Error(err))
				continue
			}
			files[b] = f
		}
		st, err := fstat(int(f.Fd()))
		if err != nil {
			continue
		}
		s.mu.Lock()
		changed := !b.verified || !b.stamp.same(st)
		due := s.cfg.ScrubRate > 0 && time.Now().UnixNano()-b.verifiedAt >= int64(s.cfg.OpenScrubInterval)
		s.mu.Unlock()
		switch {
		case changed:
			// Shared with an open verifying the same blob, unpaced: a
			// player may be reading the change right now.
			_, _, _ = s.verifies.Do(b.hash, func() (any, error) { return s.checkBlob(b, f, st, nil), nil })
		case due:
			s.checkBlob(b, f, st, s.pacer())
		}
	}
}
