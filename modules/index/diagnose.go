package index

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// untaggedPerSecond is how many "tags not read" lines (one per file) the
// log gets each second; the rest are counted, and the summary after each
// scan gives every untagged file's reason by format.
const untaggedPerSecond = 10

// newUntaggedLog returns log sampled to untaggedPerSecond lines a second,
// counting the lines it drops in dropped.
func newUntaggedLog(log *zap.Logger, dropped *atomic.Int64) *zap.Logger {
	return log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewSamplerWithOptions(c, time.Second, untaggedPerSecond, 0,
			zapcore.SamplerHook(func(_ zapcore.Entry, d zapcore.SamplingDecision) {
				if d&zapcore.LogDropped != 0 {
					dropped.Add(1)
				}
			}))
	}))
}

// logUntagged logs one line summing up the untagged audio files by reason
// and extension, e.g. no_tags="12 mp3, 3 flac" malformed="2 mp3".
func (ix *Index) logUntagged(tracks []*Track) {
	type key struct {
		r   Reason
		ext string
	}
	counts := map[key]int{}
	total := 0
	for _, t := range tracks {
		if t.Audio && !t.Tagged {
			ext := strings.ToLower(strings.TrimPrefix(path.Ext(t.RelPath), "."))
			counts[key{t.Untagged, ext}]++
			total++
		}
	}
	if total == 0 {
		return
	}
	byReason := map[Reason][]key{}
	for k := range counts {
		byReason[k.r] = append(byReason[k.r], k)
	}
	fields := []zap.Field{zap.Int("untagged", total)}
	for r := range nReasons {
		ks := byReason[r]
		if len(ks) == 0 {
			continue
		}
		slices.SortFunc(ks, func(a, b key) int { return cmp.Or(counts[b]-counts[a], strings.Compare(a.ext, b.ext)) })
		parts := make([]string, len(ks))
		for i, k := range ks {
			parts[i] = fmt.Sprintf("%d %s", counts[k], k.ext)
		}
		fields = append(fields, zap.String(r.String(), strings.Join(parts, ", ")))
	}
	if n := ix.untaggedDropped.Swap(0); n > 0 {
		fields = append(fields, zap.Int64("lines_not_logged", n))
	}
	ix.log.Info("untagged files by reason", fields...)
}
