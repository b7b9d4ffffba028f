package cas

import (
	"context"
	"sync"
)

// aheadBlocks is how many blocks past a playing read are fetched ahead of
// it. The kernel reads ahead at most one request (1 MiB) past the
// reader, so without this each block's fetch, hash and write would stand
// between a player and its next block, and the origin would see one read
// at a time.
const aheadBlocks = 4

// readAhead is a Reader's fetches ahead of its playback; they end when the
// Reader closes.
type readAhead struct {
	ctx  context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu   sync.Mutex // guards fl and upto, and starting fetches against closeAhead
	fl   *fill      // the fill upto is of
	upto int        // blocks below it have been fetched ahead, or asked for
}

// ahead starts fetches of the blocks after end (a playing read's end) that
// are neither present nor on their way, up to aheadBlocks of them.
func (r *Reader) ahead(end int64) {
	s, t := r.s, r.t
	s.mu.Lock()
	fl := t.fill
	if fl == nil || end >= r.key.Size {
		s.mu.Unlock()
		return
	}
	first := int(end / fl.blockSize)
	last := min(first+aheadBlocks, fl.n)
	ra := &r.readAhead
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if ra.fl != fl || first+aheadBlocks < ra.upto { // a new fill, or a seek back
		ra.fl, ra.upto = fl, 0
	}
	var want []int
	for i := max(first, ra.upto); i < last; i++ {
		if !fl.present[i] {
			want = append(want, i)
		}
	}
	ra.upto = max(ra.upto, last)
	s.mu.Unlock()
	if ra.ctx.Err() != nil {
		return // closed: closeAhead has waited already
	}
	for _, i := range want {
		ra.wg.Go(func() {
			// A failure is the reader's to meet when it gets there.
			_, _ = s.fetchBlock(ra.ctx, t, fl, i, r.src)
		})
	}
}

// closeAhead cancels the fetches ahead and waits for them to let go of
// the Reader's origin file; a fetch another reader shares goes on.
func (r *Reader) closeAhead() {
	ra := &r.readAhead
	if ra.stop == nil {
		return // an empty track
	}
	ra.mu.Lock() // no fetch starts after this
	ra.stop()
	ra.mu.Unlock()
	ra.wg.Wait()
}
