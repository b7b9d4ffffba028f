// Package cas is the content-addressed store behind every cached read.
//
// A track (Key) is fetched from its origin in fixed-size blocks into a
// per-track fill file; each block's BLAKE3 hash is recorded in the manifest
// and checked when the block is served. When every block is present the
// track is hashed whole and the fill file is renamed to blobs/ab/abcd…, named
// by that hash, so identical files share one blob. A blob is hashed whole
// at every open unless it hashed right less than FreshFor ago and its file
// is unchanged since; every daemon read from it checks that the file did
// not change. While Readers hold a blob (the kernel may be reading it
// through FUSE passthrough, unchecked), its file is watched for changes and
// rehashed at a priority interval; damage found then is repaired in the
// file itself from the origin, or, failing that, cut off so that it cannot
// be read (see repair). Where the filesystem has fs-verity, blobs get it.
// Manifests live in a bbolt database in the cache directory.
//
// The in-memory state (Store.mu) is authoritative while the store runs; the
// database follows it asynchronously and is reconciled with the files at
// Start. A lost write only ever loses cached data: every byte served from
// the cache is checked against a hash first.
package cas

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"golang.org/x/sync/semaphore"
	"golang.org/x/sync/singleflight"
)

// Params are the dependencies of New. Registerer may be nil when the store
// is used without fx; without a Space the store has no limits.
type Params struct {
	fx.In

	Config     Config
	Logger     *zap.Logger
	Registerer prometheus.Registerer
	Space      Space `optional:"true"`
}

// Space keeps the store within its limits; the cache module implements it
// (LRU eviction, max_size, min_free). The store hands it itself on every
// call, so that the Space needs no reference to the store that holds it.
type Space interface {
	// MakeRoom is asked before every block write for need more bytes.
	MakeRoom(inv Inventory, need int64) error
	// Reclaim is asked after a write failed for want of disk space although
	// room was made (other programs fill the disk too, and min_free may be
	// 0): it evicts whatever its accounting says, up to need bytes.
	Reclaim(inv Inventory, need int64) error
}

// Store is the content-addressed store. Its methods are safe for concurrent
// use.
type Store struct {
	cfg   Config
	log   *zap.Logger
	m     *metrics
	space Space // nil: no limits

	flights   flightGroup        // block fetches, by fill id and block
	probation probation          // chunks read once, by probes (see probe)
	verifies  singleflight.Group // whole-blob verification, by hash
	bufs      sync.Pool          // *[]byte of cfg.BlockSize, for verifying blocks
	usage     atomic.Int64       // allocated bytes of all entries
	warnedAt  atomic.Int64       // unix ns of the last "serving uncached" warning
	// verityOff is set once enabling fs-verity failed for want of support.
	verityOff atomic.Bool

	db     *bolt.DB
	q      queue
	ctx    context.Context // cancelled by Stop: scrub, slot waits
	cancel context.CancelFunc
	// wg counts flights, promotions and background loops. Add happens under
	// mu while !stopping, so Stop's Wait never races an Add.
	wg        sync.WaitGroup
	writeDone chan struct{}

	mu        sync.Mutex // guards everything below; never held across I/O
	started   bool
	stopping  bool
	tracks    map[string]*track              // by encodeKey
	paths     map[string]map[*track]struct{} // by pathOf: every version of a file
	fills     map[string]*track              // by fill id
	blobs     map[string]*blob               // by hash, including retired ones
	promoting map[string]int                 // blob hash → promotions under way
	creating  map[string]chan struct{}       // blob hash → closed once the promotion creating it ends
	removing  map[string]chan struct{}       // entry id → closed once its file is gone
	sems      map[string]*semaphore.Weighted // per origin
	flushedAt int64                          // unix ns of the last access-time flush
}

// track is one Key's state: a blob or a fill, never both.
type track struct {
	key    Key
	enc    string
	access atomic.Int64  // unix ns of the last Open or ReadAt
	gen    atomic.Uint64 // bumped when the track's blob is dropped

	// Guarded by Store.mu.
	refs          int  // open Readers, flights, promotions
	retired       bool // a newer version of the file exists; retire at refs 0
	blob          *blob
	fill          *fill
	promoting     bool
	promoDone     chan struct{} // closed when the running promotion ends
	loggedCorrupt bool
}

// blob is a complete file named by its hash.
type blob struct {
	hash   string
	size   int64
	bytes  int64
	access int64 // persisted or inherited from retired tracks (unix ns)
	tracks map[*track]struct{}
	// The blob was hashed whole while its file had this stamp. Until the file
	// changes, the daemon reads it without rehashing, checking after every
	// read that its descriptor still has the stamp (see blobFile.unchanged)
	// and verifying it again if not. Damage that keeps the stamp (bit rot
	// under the filesystem) is found by the hash at each open (once
	// FreshFor has passed), the watch of open blobs and the scrub.
	stamp    stamp
	verified bool
	// verifiedAt is when the content last hashed right (unix ns; 0: not in
	// this run). An open for passthrough hashes it again once FreshFor has
	// passed: the kernel then reads the file with no check of ours.
	verifiedAt int64
	// blocks are the hashes of the content's bsize blocks, known once the
	// blob was promoted or verified in this run. They tell which blocks a
	// damaged blob lost, so that it can be repaired in place.
	bsize  int64
	blocks [][hashLen]byte
	// readers hold descriptors of the file, which the kernel may be reading
	// through passthrough: damage found while there are any is repaired in
	// the file itself, since a new file would not reach those descriptors.
	// They also give the repair its origin files.
	readers map[*Reader]struct{}
	// repairing is closed when the repair of damage found in the open blob
	// ends; nil when none runs. Readers wait for it.
	repairing chan struct{}
	verity    bool // fs-verity is enabled on the file: the kernel checks every page
}

func newBlob(hash string, size, bytes int64) *blob {
	return &blob{hash: hash, size: size, bytes: bytes, tracks: map[*track]struct{}{}, readers: map[*Reader]struct{}{}}
}

func (s *Store) touch(t *track) {
	now := time.Now().UnixNano()
	if now-t.access.Load() >= int64(time.Millisecond) {
		t.access.Store(now)
	}
}

// New builds a store; it does no I/O. Start opens it.
func New(p Params) (*Store, error) {
	cfg := p.Config.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Store{
		cfg:       cfg,
		log:       p.Logger,
		space:     p.Space,
		tracks:    map[string]*track{},
		paths:     map[string]map[*track]struct{}{},
		fills:     map[string]*track{},
		blobs:     map[string]*blob{},
		promoting: map[string]int{},
		creating:  map[string]chan struct{}{},
		removing:  map[string]chan struct{}{},
		sems:      map[string]*semaphore.Weighted{},
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	m, err := newMetrics(p.Registerer, func() float64 { return float64(s.usage.Load()) },
		func() float64 { return float64(s.probation.size.Load()) })
	if err != nil {
		return nil, err
	}
	s.m = m
	s.q.wake = make(chan struct{}, 1)
	return s, nil
}

func (s *Store) path(rel string) string { return filepath.Join(s.cfg.Dir, filepath.FromSlash(rel)) }

// acquire returns k's track with a reference taken, creating it (partial,
// empty) if the store has no manifest for k. Creating a new version of a
// file retires the manifests of its older versions.
func (s *Store) acquire(k Key) (*track, error) {
	enc := encodeKey(k)
	var unlink []string
	s.mu.Lock()
	if !s.started || s.stopping {
		s.mu.Unlock()
		return nil, ErrClosed
	}
	t := s.tracks[enc]
	if t == nil {
		t = &track{key: k, enc: enc}
		t.fill = s.newFillLocked(t, s.cfg.BlockSize)
		s.tracks[enc] = t
		p := pathOf(k)
		for old := range s.paths[p] {
			if old.refs > 0 {
				old.retired = true
				continue
			}
			unlink = append(unlink, s.dropTrackLocked(old)...)
		}
		if s.paths[p] == nil {
			s.paths[p] = map[*track]struct{}{}
		}
		s.paths[p][t] = struct{}{}
	}
	t.refs++
	s.maybePromoteLocked(t)
	s.mu.Unlock()
	s.touch(t)
	s.unlink(unlink)
	return t, nil
}

// release drops a reference taken by acquire (or by a flight or promotion).
func (s *Store) release(t *track) {
	var unlink []string
	s.mu.Lock()
	t.refs--
	if t.refs == 0 && t.retired {
		unlink = s.dropTrackLocked(t)
	}
	s.mu.Unlock()
	s.unlink(unlink)
}

func (s *Store) unlink(rels []string) {
	for _, rel := range rels {
		if err := os.Remove(s.path(rel)); err != nil && !os.IsNotExist(err) {
			s.log.Warn("remove cache file", zap.String("file", rel), zap.Error(err))
		}
	}
}

func newFillID() string {
	var b [fillIDLen / 2]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newFillLocked gives t a new, empty fill (not on disk until its first
// block is written).
func (s *Store) newFillLocked(t *track, blockSize int64) *fill {
	fl := newFill(newFillID(), t.key.Size, blockSize)
	s.fills[fl.id] = t
	return fl
}

// dropTrackLocked forgets t and its manifest. Its blob stays, possibly with
// no track left, for eviction; its fill file is returned for unlinking.
// t must not be in use.
func (s *Store) dropTrackLocked(t *track) (unlink []string) {
	if s.tracks[t.enc] == t {
		delete(s.tracks, t.enc)
	}
	if ps := s.paths[pathOf(t.key)]; ps != nil {
		delete(ps, t)
		if len(ps) == 0 {
			delete(s.paths, pathOf(t.key))
		}
	}
	enc := t.enc
	s.enqueue(func(tx *bolt.Tx) error { return tx.Bucket(bucketManifests).Delete([]byte(enc)) })
	if b := t.blob; b != nil {
		delete(b.tracks, t)
		b.access = max(b.access, t.access.Load())
		t.blob = nil
	}
	if fl := t.fill; fl != nil {
		unlink = s.dropFillLocked(fl)
		t.fill = nil
	}
	return unlink
}

// dropFillLocked forgets a fill and its block records; it returns the file
// to unlink if there is one.
func (s *Store) dropFillLocked(fl *fill) (unlink []string) {
	fl.gone.Store(true)
	delete(s.fills, fl.id)
	id := fl.id
	s.enqueue(func(tx *bolt.Tx) error { return deleteBlocks(tx, id) })
	s.enqueue(func(tx *bolt.Tx) error { return tx.Bucket(bucketAccess).Delete([]byte(fillRel(id))) })
	if fl.onDisk {
		s.usage.Add(-fl.bytes)
		fl.onDisk = false
		return []string{fillRel(fl.id)}
	}
	return nil
}

// sem returns origin's fetch slots.
func (s *Store) sem(origin string) *semaphore.Weighted {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.sems[origin]
	if w == nil {
		w = semaphore.NewWeighted(int64(s.cfg.FetchConcurrency))
		s.sems[origin] = w
	}
	return w
}

// warnUncached logs that a block was served without being stored, at most
// once a minute.
func (s *Store) warnUncached(k Key, err error) {
	now := time.Now().UnixNano()
	last := s.warnedAt.Load()
	if now-last < int64(time.Minute) || !s.warnedAt.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn("cache full or unwritable; serving from the origin uncached (logged once a minute)",
		zap.Stringer("track", k), zap.Error(err))
}

// Dir is the cache directory.
func (s *Store) Dir() string { return s.cfg.Dir }
