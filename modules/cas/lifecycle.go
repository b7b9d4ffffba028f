package cas

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/internal/supervise"
)

// accessFlushInterval is how often last-access times are persisted besides
// at Stop, bounding what a crash loses of the eviction order.
const accessFlushInterval = time.Minute

// Start prepares the cache directory (mode 0700), removes temp leftovers,
// opens the manifest database, reconciles it with the files and starts the
// background work (database writer, access-time flush, the watch of open
// blobs, scrub).
func (s *Store) Start(context.Context) error {
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		return errors.New("start cache store: already started")
	}
	if err := s.prepareDir(); err != nil {
		return err
	}
	if err := s.loadDB(); err != nil {
		return err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.q.stop = make(chan struct{})
	s.writeDone = make(chan struct{})
	go s.writeLoop()

	s.mu.Lock()
	s.started = true
	s.flushedAt = time.Now().UnixNano()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		supervise.Loop(s.log, "flush access times", s.ctx.Done(), s.maintain)
	}()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		supervise.Loop(s.log, "watch open blobs", s.ctx.Done(), s.guardLoop)
	}()
	if s.cfg.ScrubRate > 0 {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			supervise.Loop(s.log, "scrub", s.ctx.Done(), s.scrubLoop)
		}()
	}
	ntracks, nblobs := len(s.tracks), len(s.blobs)
	s.mu.Unlock()
	s.log.Info("cache store open", zap.String("dir", s.cfg.Dir), zap.Int("tracks", ntracks),
		zap.Int("blobs", nblobs), zap.Int64("bytes", s.usage.Load()))
	return nil
}

// Stop stops the background work, waits for fetches and promotions, flushes
// last-access times and pending manifest writes, and closes the database.
// Fetches waiting on the origin end with the store's context.
func (s *Store) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.stopping {
		s.mu.Unlock()
		return nil
	}
	s.stopping = true
	s.mu.Unlock()
	s.cancel()

	waited := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-ctx.Done():
		return fmt.Errorf("stop cache store: %w", ctx.Err())
	}
	s.flushAccess()
	close(s.q.stop)
	<-s.writeDone
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close cache manifest database: %w", err)
	}
	return nil
}

// maintain persists last-access times periodically.
func (s *Store) maintain() {
	tick := time.NewTicker(accessFlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
			s.flushAccess()
		}
	}
}

var subdirs = []string{"blobs", "fill", "tmp"}

func (s *Store) prepareDir() error {
	if err := os.MkdirAll(s.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	if err := os.Chmod(s.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("create cache dir: %w", err)
	}
	// Temp files are never part of the cache: whatever is there was left by
	// a crash.
	if err := os.RemoveAll(s.path("tmp")); err != nil {
		return fmt.Errorf("remove temp leftovers: %w", err)
	}
	for _, d := range subdirs {
		if err := os.Mkdir(s.path(d), 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create cache dir: %w", err)
		}
	}
	return nil
}

// resetState forgets everything loaded from the database (before wiping).
func (s *Store) resetState() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tracks)
	clear(s.paths)
	clear(s.fills)
	clear(s.blobs)
	s.usage.Store(0)
}

// wipe empties the cache directory's store (after losing the database).
func (s *Store) wipe() error {
	for _, p := range []string{dbName, "blobs", "fill", "tmp"} {
		if err := os.RemoveAll(s.path(p)); err != nil {
			return fmt.Errorf("reset cache dir: %w", err)
		}
	}
	return s.prepareDir()
}

// reconcile loads the manifests and makes them agree with the files:
// manifests whose blob or fill file is missing or has the wrong size are
// dropped, files and records no manifest names are removed.
func (s *Store) reconcile() error {
	fills, blobs, strays, err := s.listFiles()
	if err != nil {
		return err
	}
	type loaded struct {
		enc string
		m   manifest
	}
	var mans []loaded
	var dropKeys [][]byte
	blocks := map[string]map[int][hashLen]byte{}
	access := map[string]int64{}
	err = s.db.View(func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketManifests).ForEach(func(k, v []byte) error {
			m, err := decodeManifest(v)
			if _, kerr := decodeKey(string(k)); err != nil || kerr != nil {
				dropKeys = append(dropKeys, append([]byte(nil), k...))
				return nil
			}
			mans = append(mans, loaded{string(k), m})
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Bucket(bucketBlocks).ForEach(func(k, v []byte) error {
			if len(k) != fillIDLen+4 || len(v) != hashLen {
				return nil // removed below: no manifest names it
			}
			id := string(k[:fillIDLen])
			if blocks[id] == nil {
				blocks[id] = map[int][hashLen]byte{}
			}
			blocks[id][int(binary.BigEndian.Uint32(k[fillIDLen:]))] = [hashLen]byte(v)
			return nil
		}); err != nil {
			return err
		}
		return tx.Bucket(bucketAccess).ForEach(func(k, v []byte) error {
			if len(v) == 8 {
				access[string(k)] = int64(binary.BigEndian.Uint64(v))
			}
			return nil
		})
	})
	if err != nil {
		return dbError{fmt.Errorf("load cache manifests: %w", err)}
	}

	s.mu.Lock()
	var dropped []Key
	for _, l := range mans {
		k, _ := decodeKey(l.enc)
		t := &track{key: k, enc: l.enc}
		if l.m.blob != "" {
			st, ok := blobs[l.m.blob]
			if !ok || st.size != k.Size {
				dropKeys, dropped = append(dropKeys, []byte(l.enc)), append(dropped, k)
				continue
			}
			b := s.blobs[l.m.blob]
			if b == nil {
				id := blobRel(l.m.blob)
				b = newBlob(l.m.blob, st.size, st.bytes())
				b.access = accessOr(access, id, st.mtime)
				s.blobs[b.hash] = b
				s.usage.Add(b.bytes)
			}
			b.tracks[t] = struct{}{}
			t.blob = b
			t.access.Store(b.access)
		} else {
			st, ok := fills[l.m.fill]
			if !ok || st.size != k.Size || s.fills[l.m.fill] != nil || !validBlockSize(l.m.blockSize) {
				dropKeys, dropped = append(dropKeys, []byte(l.enc)), append(dropped, k)
				continue
			}
			fl := newFill(l.m.fill, k.Size, l.m.blockSize)
			for i, h := range blocks[fl.id] {
				if i < fl.n {
					fl.markLocked(i, h)
				}
			}
			fl.onDisk, fl.bytes = true, st.bytes()
			s.usage.Add(fl.bytes)
			t.fill = fl
			s.fills[fl.id] = t
			t.access.Store(accessOr(access, fillRel(fl.id), st.mtime))
		}
		s.tracks[l.enc] = t
		p := pathOf(k)
		if s.paths[p] == nil {
			s.paths[p] = map[*track]struct{}{}
		}
		s.paths[p][t] = struct{}{}
	}
	// Everything on disk or in the database that no manifest names goes.
	unlink := strays
	for id := range fills {
		if s.fills[id] == nil {
			unlink = append(unlink, fillRel(id))
		}
	}
	for hash := range blobs {
		if s.blobs[hash] == nil {
			unlink = append(unlink, blobRel(hash))
		}
	}
	var dropBlocks []string
	for id := range blocks {
		if s.fills[id] == nil {
			dropBlocks = append(dropBlocks, id)
		}
	}
	var dropAccess []string
	for id := range access {
		if !s.hasEntryLocked(id) {
			dropAccess = append(dropAccess, id)
		}
	}
	s.mu.Unlock()

	if len(dropped) > 0 {
		s.log.Warn("dropped cache manifests whose files are missing or the wrong size", zap.Stringers("tracks", dropped))
	}
	if len(unlink) > 0 {
		s.log.Info("removing cache files no manifest names", zap.Int("files", len(unlink)))
	}
	s.unlink(unlink)
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, k := range dropKeys {
			if err := tx.Bucket(bucketManifests).Delete(k); err != nil {
				return err
			}
		}
		for _, id := range dropBlocks {
			if err := deleteBlocks(tx, id); err != nil {
				return err
			}
		}
		for _, id := range dropAccess {
			if err := tx.Bucket(bucketAccess).Delete([]byte(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return dbError{fmt.Errorf("reconcile cache manifests: %w", err)}
	}
	return nil
}

func accessOr(access map[string]int64, id string, def int64) int64 {
	if at, ok := access[id]; ok {
		return at
	}
	return def
}

func (s *Store) hasEntryLocked(id string) bool {
	if h, ok := strings.CutPrefix(id, blobIDPre); ok && len(h) > 3 {
		return s.blobs[h[3:]] != nil
	}
	if f, ok := strings.CutPrefix(id, fillIDPre); ok {
		return s.fills[f] != nil
	}
	return false
}

// listFiles stats the fill files and blobs. Names that are not ours are
// returned as strays, to be removed.
func (s *Store) listFiles() (fills, blobs map[string]stamp, strays []string, err error) {
	fills, blobs = map[string]stamp{}, map[string]stamp{}
	ents, err := os.ReadDir(s.path("fill"))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list cache fill files: %w", err)
	}
	for _, e := range ents {
		rel := fillRel(e.Name())
		st, err := lstat(s.path(rel))
		if !validFillID(e.Name()) || !e.Type().IsRegular() || err != nil {
			strays = append(strays, rel)
			continue
		}
		fills[e.Name()] = st
	}
	dirs, err := os.ReadDir(s.path("blobs"))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list cache blobs: %w", err)
	}
	for _, d := range dirs {
		if !d.IsDir() {
			strays = append(strays, blobIDPre+d.Name())
			continue
		}
		ents, err := os.ReadDir(s.path(blobIDPre + d.Name()))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("list cache blobs: %w", err)
		}
		for _, e := range ents {
			rel := blobIDPre + d.Name() + "/" + e.Name()
			st, err := lstat(s.path(rel))
			if !validBlobHash(e.Name()) || e.Name()[:2] != d.Name() || !e.Type().IsRegular() || err != nil {
				strays = append(strays, rel)
				continue
			}
			blobs[e.Name()] = st
		}
	}
	return fills, blobs, strays, nil
}

func lstat(path string) (stamp, error) {
	var sys unix.Stat_t
	if err := unix.Lstat(path, &sys); err != nil {
		return stamp{}, err
	}
	return stampOf(&sys), nil
}
