package index

// The producing side of a scan: walking an origin, and reading the tags
// of the files that changed.

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/musicfs/musicfs/internal/bounded"
	"github.com/musicfs/musicfs/modules/origins"
)

var errFileTimeout = errors.New("tag reading timed out")

// walkOrigin walks one origin, sending unchanged files straight to results
// and the rest to the tag readers. prev holds the origin's records (sorted),
// which start at base in the scan's list. A panic in the origin is
// contained.
func (ix *Index) walkOrigin(ctx context.Context, o origins.Origin, retry map[string]struct{},
	prev []*Track, base int, jobs chan<- job, results chan<- result) (out outcome) {
	name := o.Name()
	log := ix.log.With(zap.String("origin", name))
	defer func() {
		if v := recover(); v != nil {
			ix.m.panics.Inc()
			log.Error("origin walk panicked; keeping its tracks", zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
			out = outcome{}
		}
	}()
	files := 0
	err := o.Walk(ctx, func(e origins.Entry) error {
		ix.m.files.Inc()
		files++
		var send chan<- result
		var r result
		j := job{o: o, e: e, idx: -1, at: time.Now()}
		i, found := slices.BinarySearchFunc(prev, e.RelPath, func(t *Track, rel string) int { return strings.Compare(t.RelPath, rel) })
		if found {
			j.idx = base + i
			if p := prev[i]; p.Size == e.Size && p.ModTime.Equal(e.ModTime) {
				again := false
				if len(retry) > 0 { // no key to build in the usual case
					_, again = retry[key(name, e.RelPath)]
				}
				if !again {
					send, r = results, result{t: p, idx: j.idx, at: j.at}
				}
			}
		}
		var sendJob chan<- job
		if send == nil {
			sendJob = jobs
		}
		select {
		case send <- r:
		case sendJob <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	})
	out = walkOutcome(err, files)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return outcome{files: files}
	case errors.Is(err, origins.ErrOffline):
		log.Info("origin offline: keeping its tracks", zap.Error(err))
	case out.walked && !out.unknown:
		// The origin warns about each unreadable directory itself.
		ix.m.errors.Inc()
		log.Info("origin walk incomplete: keeping the tracks under the directories it skipped", zap.Error(err))
	default:
		ix.m.errors.Inc()
		log.Warn("origin walk incomplete: keeping tracks it did not see", zap.Error(err))
	}
	return out
}

// readTrack builds the record of one file, reading its tags if it is audio,
// within the per-file timeout: the origin's calls return when ctx ends, and
// every read of the tag readers checks it. A panic (from the origin or a
// tag reader) lists the file untagged.
func (ix *Index) readTrack(ctx context.Context, o origins.Origin, e origins.Entry) result {
	t := &Track{Origin: o.Name(), RelPath: e.RelPath, Size: e.Size, ModTime: e.ModTime, Audio: IsAudio(e.RelPath)}
	if !t.Audio {
		return result{t: t}
	}
	ctx, cancel := context.WithTimeout(ctx, ix.cfg.FileTimeout)
	defer cancel()
	tg, n, err := readFileTagsSafely(ctx, o, e.RelPath, e.Size)
	if errors.Is(err, context.DeadlineExceeded) {
		err = fmt.Errorf("no result within %s: %w", ix.cfg.FileTimeout, errFileTimeout)
	}
	res := result{t: t, reread: true, bytes: n}
	var pe *bounded.PanicError
	var ioe *ioError
	switch {
	case err == nil:
		fill(t, tg)
		return res
	case errors.Is(err, context.Canceled): // shutdown: nothing to say
		res.retry = true
		return res
	case errors.As(err, &pe):
		ix.m.panics.Inc()
		t.Untagged = ReasonPanic
		ix.log.Error("tag reader panicked; file listed untagged", zap.String("origin", t.Origin),
			zap.String("relpath", t.RelPath), zap.String("panic", fmt.Sprint(pe.Value)), zap.ByteString("stack", pe.Stack))
		return res
	case errors.Is(err, errFileTimeout):
		t.Untagged, res.retry = ReasonTimeout, true
	case errors.As(err, &ioe):
		t.Untagged, res.retry = ReasonIO, true
	default:
		t.Untagged = reasonOf(err)
	}
	// A file without tags, or of a format that has none, is not an error.
	switch t.Untagged {
	case ReasonNoTags, ReasonNoReader, ReasonUnknown:
	default:
		ix.m.errors.Inc()
	}
	ix.untaggedLog.Info("tags not read; file listed under Unknown", zap.String("origin", t.Origin),
		zap.String("relpath", t.RelPath), zap.Stringer("reason", t.Untagged), zap.Bool("read_again", res.retry), zap.Error(err))
	return res
}
