package cas

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/origins"
)

// repairSource is an origin file that holds a blob's content: the track of
// a Reader holding the blob, and that Reader's opener.
type repairSource struct {
	key  Key
	open Opener
}

// repair mends an open blob found damaged, in the file itself: a
// descriptor the kernel reads through passthrough sees the file's own
// pages, and nothing else reaches it. The damaged blocks (found against the
// block hashes of the last good verification) are fetched from the origin,
// each checked against its hash, and written back; then the file is hashed
// whole again. Descriptors read correct bytes again from then on.
//
// When that fails (the origin is offline or changed), the damage is made
// to fail rather than be read: the file is cut at the first damaged block,
// so reads through descriptors already open end there, and the blob is
// dropped, so new opens fetch the track again (EIO while the origin is
// away). One ERROR names the tracks.
func (s *Store) repair(b *blob, reason string, srcs []repairSource) {
	defer s.wg.Done()
	start := time.Now()
	var (
		bad []int
		err error
	)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("blob repair panicked", zap.String("blob", blobRel(b.hash)),
				zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			err = fmt.Errorf("panic: %v", v)
		}
		if err != nil {
			s.contain(b, reason, bad, err)
		}
		s.mu.Lock()
		ch := b.repairing
		b.repairing = nil
		s.mu.Unlock()
		close(ch)
	}()

	f, err := os.OpenFile(s.path(blobRel(b.hash)), os.O_RDWR, 0)
	if err != nil {
		err = fmt.Errorf("open blob for repair: %w", err)
		return
	}
	defer f.Close()
	if bad, err = s.damagedBlocks(b, f); err != nil {
		return
	}
	if err = s.refetchBlocks(b, f, bad, srcs); err != nil {
		return
	}
	if err = f.Sync(); err != nil {
		err = fmt.Errorf("sync repaired blob: %w", err)
		return
	}
	st, err := fstat(int(f.Fd()))
	if err != nil {
		err = fmt.Errorf("stat repaired blob: %w", err)
		return
	}
	sum, _, why, _ := s.hashBlobFile(f, b.size, st.size, b.bsize, nil)
	s.m.verifications.Inc()
	switch {
	case why != "":
		err = fmt.Errorf("after the repair: %s", why)
		return
	case sum != b.hash:
		err = errors.New("after the repair: content still does not match its hash (changing under us?)")
		return
	}
	s.mu.Lock()
	current := s.blobs[b.hash] == b
	if current {
		b.stamp, b.verified, b.verifiedAt = st, true, time.Now().UnixNano()
		s.usage.Add(st.bytes() - b.bytes)
		b.bytes = st.bytes()
	}
	s.mu.Unlock()
	if !current {
		return // dropped meanwhile (evicted, gone): nothing left to mend
	}
	s.m.repairs.WithLabelValues(repairRepaired).Inc()
	s.log.Warn("cached blob damaged while open; repaired in place from the origin",
		zap.String("blob", blobRel(b.hash)), zap.String("reason", reason), zap.Ints("blocks", bad),
		zap.Stringers("tracks", s.trackKeys(b)), zap.Duration("took", time.Since(start)))
}

// damagedBlocks hashes f block by block against b's known block hashes and
// returns the blocks that differ; blocks past the end of a shortened file
// count as damaged, and a lengthened file is cut back to size.
func (s *Store) damagedBlocks(b *blob, f *os.File) ([]int, error) {
	st, err := fstat(int(f.Fd()))
	if err != nil {
		return nil, fmt.Errorf("stat blob for repair: %w", err)
	}
	if st.size > b.size {
		if err := f.Truncate(b.size); err != nil {
			return nil, fmt.Errorf("cut blob back to %d bytes: %w", b.size, err)
		}
	}
	bp := s.getBuf(b.bsize)
	defer s.putBuf(bp)
	var bad []int
	for i, want := range b.blocks {
		off := int64(i) * b.bsize
		buf := (*bp)[:min(b.bsize, b.size-off)]
		if m, _ := f.ReadAt(buf, off); m != len(buf) || blockHash(buf, i, b.bsize, b.size) != want {
			bad = append(bad, i)
		}
	}
	return bad, nil
}

// refetchBlocks writes blocks bad of b into f from the first source whose
// every block matches its hash. A block written is right whichever source
// it came from, so a source failing half-way leaves no harm.
func (s *Store) refetchBlocks(b *blob, f *os.File, bad []int, srcs []repairSource) error {
	if len(srcs) == 0 {
		return errors.New("no origin to fetch the damaged blocks from")
	}
	var errs []error
	for _, rs := range srcs {
		err := s.refetchFrom(b, f, bad, rs)
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (s *Store) refetchFrom(b *blob, f *os.File, bad []int, rs repairSource) error {
	src := &source{open: rs.open}
	defer src.close()
	for _, i := range bad {
		off := int64(i) * b.bsize
		n := min(b.bsize, b.size-off)
		ctx, cancel := origins.WithTimeout(s.ctx, s.cfg.ReadTimeout)
		buf, err := s.readOrigin(ctx, rs.key, src, off, n)
		cancel()
		if err != nil {
			return err
		}
		if blockHash(buf, i, b.bsize, b.size) != b.blocks[i] {
			return fmt.Errorf("fetch %s block %d: origin content differs from the cached copy: %w", rs.key, i, ErrChanged)
		}
		if _, err := f.WriteAt(buf, off); err != nil {
			return fmt.Errorf("write repaired block %d: %w", i, err)
		}
	}
	return nil
}

// contain makes the damage of a blob that could not be repaired fail
// instead of being read (see repair) and logs it once, as an ERROR.
func (s *Store) contain(b *blob, reason string, bad []int, cause error) {
	cut := int64(0)
	if len(bad) > 0 {
		cut = int64(bad[0]) * b.bsize
	}
	cutErr := s.cut(b, cut)
	keys, ok := s.removeBlob(b)
	if !ok {
		return // dropped meanwhile: its file is gone, with the damage
	}
	s.m.repairs.WithLabelValues(repairFailed).Inc()
	fields := []zap.Field{zap.Stringers("tracks", keys), zap.String("blob", blobRel(b.hash)),
		zap.String("reason", reason), zap.Ints("blocks", bad), zap.NamedError("repair", cause)}
	if cutErr != nil {
		fields = append(fields, zap.NamedError("cut", cutErr))
	}
	s.log.Error("cached blob damaged while open and the origin cannot repair it: reads already open end at the damage, "+
		"new opens fetch the track again (EIO until its origin answers)", append(fields, zap.Int64("cut_at", cut))...)
}

// cut truncates b's file to n bytes, if the file is still b's (by inode):
// once b is dropped, a new blob of the same content may take its name.
func (s *Store) cut(b *blob, n int64) error {
	f, err := os.OpenFile(s.path(blobRel(b.hash)), os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := fstat(int(f.Fd()))
	if err != nil {
		return err
	}
	s.mu.Lock()
	ours := s.blobs[b.hash] == b && st.ino == b.stamp.ino
	s.mu.Unlock()
	if !ours {
		return errors.New("blob file replaced")
	}
	if err := f.Truncate(n); err != nil {
		return err
	}
	return f.Sync()
}
