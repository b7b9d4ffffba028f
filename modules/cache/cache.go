// Package cache keeps the content-addressed store within its limits: it
// accounts allocated bytes, evicts least recently used entries to stay under
// cache.max_size and keep cache.min_free of the filesystem free (or when a
// write finds it full all the same), never evicts pinned or in-use data,
// and fetches pinned tracks in full in the background.
package cache

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/modules/config"
)

// Params are the cache module's dependencies.
type Params struct {
	fx.In

	Config     Config
	Logger     *zap.Logger
	Registerer prometheus.Registerer
	Options    Options `optional:"true"`
}

// Cache is the store's Space: every block write asks it for room first.
// It holds no reference to the store, which hands itself over on each call.
type Cache struct {
	cfg  Config
	opt  Options
	log  *zap.Logger
	pins *pinMatcher

	pinned atomic.Pointer[pinSet]    // nil until resolved
	status atomic.Pointer[PinStatus] // nil until the first pin pass

	// mu guards the bookkeeping of removals, which lets concurrent
	// MakeRoom calls count on each other's evictions instead of each
	// evicting for the same shortfall. It is never held across a Store
	// call.
	mu       sync.Mutex
	removing map[string]bool   // entries whose removal is in flight
	epoch    uint64            // completed removals
	gone     map[string]uint64 // entry removed → epoch after its removal
	readers  map[uint64]int    // listings in progress, by the epoch they began at
	reclaims []*reclaimRun     // Reclaim calls evicting, whose surplus others may claim
	// The last ErrNoSpace of MakeRoom and of Reclaim: while the cache is
	// full the store asks for every block, twice.
	noRoom, noReclaim verdict

	kick         chan struct{} // a write was granted: check the limits soon
	statfsFailed atomic.Bool   // logged; cleared when statfs works again
	overLimit    atomic.Bool   // the background check could not meet the limits

	evictions, evictedBytes prometheus.Counter
	pinnedBytes, maxBytes   prometheus.Gauge
}

// New validates the configuration and registers the metrics. It does no
// I/O. The store is handed the Cache as its Space; the Worker does the
// background work.
func New(p Params) (*Cache, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	pins, err := compilePins(p.Config.Pin, p.Config.Uncached)
	if err != nil { // unreachable: Validate checked the patterns
		return nil, err
	}
	c := &Cache{
		cfg:      p.Config,
		opt:      p.Options.withDefaults(),
		log:      p.Logger,
		pins:     pins,
		removing: map[string]bool{},
		gone:     map[string]uint64{},
		readers:  map[uint64]int{},
		kick:     make(chan struct{}, 1),
		evictions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_evictions_total", Help: "Cache entries evicted to respect max_size or min_free.",
		}),
		evictedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "musicfs_cache_evicted_bytes_total", Help: "Allocated bytes freed by evictions.",
		}),
		pinnedBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "musicfs_cache_pinned_bytes", Help: "Bytes of pinned tracks present in the cache.",
		}),
		maxBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "musicfs_cache_max_bytes", Help: "The configured cache.max_size.",
		}),
	}
	if c.log == nil {
		c.log = zap.NewNop()
	}
	c.maxBytes.Set(float64(c.cfg.MaxSize))
	if p.Registerer != nil {
		for _, m := range []prometheus.Collector{c.evictions, c.evictedBytes, c.pinnedBytes, c.maxBytes} {
			if err := p.Registerer.Register(m); err != nil {
				return nil, fmt.Errorf("register cache metrics: %w", err)
			}
		}
	}
	return c, nil
}

// MakeRoom evicts least recently used entries, never pinned or in-use ones,
// until need more bytes fit under max_size with min_free left on the
// filesystem. It returns an error wrapping ErrNoSpace if that is
// impossible; then nothing was evicted for it.
func (c *Cache) MakeRoom(inv Inventory, need int64) error {
	if err := c.makeRoom(inv, need, false); err != nil {
		return err
	}
	if need > 0 {
		select { // concurrent grants may overshoot by a block each: trim after
		case c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// makeRoom does MakeRoom's work. With partial set (the background check) it
// evicts whatever it can even when that is not enough.
//
// The usage that decides is summed from one listing of the entries, so it
// is consistent with it: a listed entry whose removal is in flight, or
// completed since the listing began, counts as freed; a removed entry the
// listing no longer shows was never counted. Concurrent calls thus count on
// each other's evictions without counting any of them twice.
//
// Room granted but not yet written is invisible to the listing, so
// concurrent grants may overshoot max_size by a block each; the check
// after writes trims that.
func (c *Cache) makeRoom(inv Inventory, need int64, partial bool) error {
	now := time.Now()
	disk, diskOK := c.disk()
	storeUsage := inv.Usage()
	fast := c.shortfall(storeUsage, disk, diskOK, need)
	if fast <= 0 {
		return nil // the common case, without a listing
	}
	if !partial {
		pins := c.pinned.Load()
		c.mu.Lock()
		err := c.noRoom.recall(now, c.epoch, pins, storeUsage, fast, c.opt.NoSpaceRetry)
		c.mu.Unlock()
		if err != nil {
			return err
		}
	}
	var short int64
	for range 3 { // again only if a victim could not be removed
		entries, ep := c.list(inv)
		disk, diskOK = c.disk()
		pinned := c.pinned.Load()

		c.mu.Lock()
		usage, freeing := c.sum(entries, ep)
		disk.Avail += freeing
		short = c.shortfall(usage-freeing, disk, diskOK, need)
		victims, got := c.pick(entries, ep, pinned, short)
		if short > 0 && (len(victims) == 0 || got < short && !partial) {
			victims = nil // evicting would not make enough room
		}
		for _, v := range victims {
			c.removing[v.ID] = true
		}
		var err error
		if short > 0 && len(victims) == 0 {
			err = fmt.Errorf("%w: %d more bytes needed, %d evictable (the rest is pinned or in use)", ErrNoSpace, short, got)
			if !partial {
				c.noRoom = verdict{at: now, epoch: ep, pins: pinned, usage: storeUsage, demand: fast, err: err}
			}
		}
		c.endRead(ep)
		c.mu.Unlock()

		switch {
		case short <= 0:
			return nil
		case err != nil:
			return err
		case c.evict(inv, victims) == got:
			if got < short {
				return fmt.Errorf("%w: %d more bytes needed, %d evicted (the rest is pinned or in use)", ErrNoSpace, short, got)
			}
			return nil
		}
		// A victim could not be removed (a reader opened it): look again.
	}
	return fmt.Errorf("%w: %d more bytes needed; entries could not be removed", ErrNoSpace, short)
}

// list returns the entries, least recently used first, and the epoch the
// listing began at, which the caller ends with endRead.
func (c *Cache) list(inv Inventory) ([]Entry, uint64) {
	ep := c.beginRead()
	entries := inv.Entries()
	slices.SortFunc(entries, func(a, b Entry) int {
		if d := a.LastAccess.Compare(b.LastAccess); d != 0 {
			return d
		}
		return strings.Compare(a.ID, b.ID)
	})
	return entries, ep
}

// sum returns the usage of a listing begun at ep and how much of it is
// being or has been freed since. Called with mu held.
func (c *Cache) sum(entries []Entry, ep uint64) (usage, freeing int64) {
	for _, e := range entries {
		usage += e.Bytes
		if c.freeing(e.ID, ep) {
			freeing += e.Bytes
		}
	}
	return usage, freeing
}

// pick returns the least recently used evictable entries of a listing
// begun at ep, until they add up to short bytes or the evictable ones run
// out. Called with mu held.
func (c *Cache) pick(entries []Entry, ep uint64, pinned *pinSet, short int64) (victims []Entry, got int64) {
	for _, e := range entries {
		if got >= short {
			break
		}
		if e.InUse || e.Bytes <= 0 || c.freeing(e.ID, ep) || pinned.has(e) {
			continue
		}
		victims = append(victims, e)
		got += e.Bytes
	}
	return victims, got
}

// verdict is a remembered ErrNoSpace: it answers the same or a harder
// question again until it is NoSpaceRetry old, or something the cache can
// see changed: a removal, the pins, the store's usage going down. (A
// reader closing an entry is not seen: hence the expiry.)
type verdict struct {
	at     time.Time
	epoch  uint64 // the listing began at it
	pins   *pinSet
	usage  int64 // Store.Usage then
	demand int64 // shortfall asked for then, before the listing
	err    error
}

// recall returns v's error if it still answers demand: epoch is the
// cache's now, ttl NoSpaceRetry. Called with mu held.
func (v *verdict) recall(now time.Time, epoch uint64, pins *pinSet, usage, demand int64, ttl time.Duration) error {
	if v.err == nil || now.Sub(v.at) >= ttl || v.epoch != epoch || v.pins != pins ||
		usage < v.usage || demand < v.demand {
		return nil
	}
	return v.err
}

// freeing reports whether the entry's removal is in flight or completed
// after a listing begun at epoch ep. Called with mu held.
func (c *Cache) freeing(id string, ep uint64) bool {
	return c.removing[id] || c.gone[id] > ep
}

// beginRead registers a listing begun at the current epoch, so that the
// removals completed meanwhile are remembered until it ends.
func (c *Cache) beginRead() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readers[c.epoch]++
	return c.epoch
}

// endRead ends a listing begun at ep and forgets the removals that no
// listing in progress can show. Called with mu held.
func (c *Cache) endRead(ep uint64) {
	if c.readers[ep]--; c.readers[ep] == 0 {
		delete(c.readers, ep)
	}
	oldest := c.epoch
	for e := range c.readers {
		oldest = min(oldest, e)
	}
	for id, g := range c.gone {
		if g <= oldest {
			delete(c.gone, id)
		}
	}
}

// shortfall is how many bytes must be freed before need more fit.
func (c *Cache) shortfall(usage int64, disk Disk, diskOK bool, need int64) int64 {
	short := usage + need - int64(c.cfg.MaxSize)
	if diskOK {
		short = max(short, c.minFree(disk.Total)-(disk.Avail-need))
	}
	return short
}

func (c *Cache) minFree(total int64) int64 {
	return int64(c.cfg.MinFree.Of(uint64(max(total, 0))))
}

// disk stats the cache filesystem. Without an answer min_free cannot be
// enforced; max_size still is.
func (c *Cache) disk() (Disk, bool) {
	if c.cfg.MinFree == (config.MinFree{}) {
		return Disk{}, false
	}
	d, err := c.opt.Statfs(c.cfg.Dir)
	if err != nil {
		if !c.statfsFailed.Swap(true) {
			c.log.Warn("cache.min_free not enforced until the cache filesystem can be read", zap.Error(err))
		}
		return Disk{}, false
	}
	c.statfsFailed.Store(false)
	return d, true
}

// evict removes the victims, outside the lock, and returns the sum of the
// listed sizes of those that went.
func (c *Cache) evict(inv Inventory, victims []Entry) (gone int64) {
	for _, v := range victims {
		if c.remove(inv, v) {
			gone += v.Bytes
		}
	}
	return gone
}

func (c *Cache) remove(inv Inventory, v Entry) (ok bool) {
	defer func() { // even if Remove panics: the bookkeeping must not leak
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.removing, v.ID)
		c.epoch++
		if ok {
			c.gone[v.ID] = c.epoch
		}
	}()
	freed, err := inv.Remove(v.ID)
	switch {
	case errors.Is(err, ErrInUse):
		return false // a reader opened it meanwhile: it stays
	case errors.Is(err, fs.ErrNotExist):
		// Gone meanwhile, routinely: a fill promoted to a blob, which the
		// next listing shows. Nothing was evicted.
		c.log.Debug("cache entry gone before its eviction", zap.String("entry", v.ID))
		return false
	case err != nil:
		c.log.Warn("evict cache entry", zap.String("entry", v.ID), zap.Error(err))
		return false
	}
	c.evictions.Inc()
	c.evictedBytes.Add(float64(freed))
	c.log.Debug("evicted", zap.String("entry", v.ID), zap.Int64("bytes", freed), zap.Time("last_access", v.LastAccess))
	return true
}
