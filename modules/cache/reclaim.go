package cache

import (
	"fmt"
	"slices"
	"time"
)

// reclaimRun is a Reclaim call that is evicting. Guarded by Cache.mu.
type reclaimRun struct {
	spare   int64 // chosen for eviction beyond what the run needs, unclaimed
	claimed int64 // claimed by calls that wait for this run instead of evicting
	done    chan struct{}
	err     error // set before done is closed
}

// Reclaim evicts at least need bytes of least recently used entries, never
// pinned or in-use ones, whatever the accounting says (and more if
// max_size or min_free ask for more). The store calls it after a write
// failed because the filesystem is full (ENOSPC), which MakeRoom, trusting
// the accounting, cannot see: with min_free off, or when other programs
// filled the disk since. Calls made while another's evictions are in
// flight take their surplus instead of each evicting an entry. It returns
// an error wrapping ErrNoSpace if the room cannot be made; then nothing was
// evicted for it.
func (c *Cache) Reclaim(inv Inventory, need int64) error {
	if need <= 0 {
		return nil
	}
	now := time.Now()
	storeUsage := inv.Usage()
	disk, diskOK := c.disk()
	demand := max(need, c.shortfall(storeUsage, disk, diskOK, need))
	pins := c.pinned.Load()

	c.mu.Lock()
	for _, r := range c.reclaims {
		if r.spare >= need {
			r.spare -= need
			r.claimed += need
			c.mu.Unlock()
			<-r.done
			return r.err
		}
	}
	if err := c.noReclaim.recall(now, c.epoch, pins, storeUsage, demand, c.opt.NoSpaceRetry); err != nil {
		c.mu.Unlock()
		return err
	}
	r := &reclaimRun{done: make(chan struct{})}
	c.reclaims = append(c.reclaims, r)
	c.mu.Unlock()
	defer func() { // even if Remove panics: waiting calls must not hang
		c.mu.Lock()
		c.reclaims = slices.DeleteFunc(c.reclaims, func(x *reclaimRun) bool { return x == r })
		c.mu.Unlock()
		close(r.done)
	}()
	r.err = c.reclaim(inv, r, need, now, storeUsage, demand)
	return r.err
}

func (c *Cache) reclaim(inv Inventory, r *reclaimRun, need int64, now time.Time, storeUsage, demand int64) error {
	var freed, short int64
	for range 3 { // again only if a victim could not be removed
		entries, ep := c.list(inv)
		disk, diskOK := c.disk()
		pinned := c.pinned.Load()

		c.mu.Lock()
		usage, freeing := c.sum(entries, ep)
		disk.Avail += freeing
		want := need + r.claimed
		// Others' removals in flight do not count here: the disk was full
		// with them counted.
		short = max(want-freed, c.shortfall(usage-freeing, disk, diskOK, want))
		victims, got := c.pick(entries, ep, pinned, short)
		if got < short {
			err := fmt.Errorf("%w: %d bytes to reclaim, %d evictable (the rest is pinned or in use)", ErrNoSpace, short, got)
			if r.claimed == 0 { // else it answered a larger question
				c.noReclaim = verdict{at: now, epoch: ep, pins: pinned, usage: storeUsage, demand: demand, err: err}
			}
			c.endRead(ep)
			c.mu.Unlock()
			return err
		}
		for _, v := range victims {
			c.removing[v.ID] = true
		}
		r.spare = got - short
		c.endRead(ep)
		c.mu.Unlock()

		gone := c.evict(inv, victims)
		freed += gone
		if gone == got {
			return nil
		}
		// A victim could not be removed (a reader opened it): look again.
		c.mu.Lock()
		r.spare = 0
		c.mu.Unlock()
	}
	return fmt.Errorf("%w: %d bytes to reclaim; entries could not be removed", ErrNoSpace, short)
}
