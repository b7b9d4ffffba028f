package app

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/notify"
	"github.com/musicfs/musicfs/modules/origins"
	"github.com/musicfs/musicfs/modules/tree"
)

// status renders the one-line systemd STATUS=.
type status struct {
	origins origins.Set
	index   *index.Index
	tree    *tree.Tree
	cache   *cache.Cache
}

func newStatus(o origins.Set, ix *index.Index, t *tree.Tree, c *cache.Cache) notify.Reporter {
	return &status{origins: o, index: ix, tree: t, cache: c}
}

// statusLine is what STATUS= shows.
type statusLine struct {
	tracks, origins int
	offline         []string // origins unreachable, or kept offline by the index
	scanning        bool
	files, total    int // files scanned so far; the last full scan's count (0: unknown)
	rate            float64
	pin             cache.PinStatus
}

func (s *status) Status() string {
	l := statusLine{tracks: s.tree.Current().Tracks(), offline: s.index.Offline()}
	all := s.origins.List()
	l.origins = len(all)
	for _, o := range all {
		if !o.Online() && !slices.Contains(l.offline, o.Name()) {
			l.offline = append(l.offline, o.Name())
		}
	}
	slices.Sort(l.offline)
	l.scanning = s.index.Stats().Scanning
	l.files, l.total, l.rate = s.index.Progress()
	l.pin = s.cache.PinStatus()
	return l.String()
}

func (l statusLine) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "serving %d tracks from %d origins", l.tracks, l.origins)
	if len(l.offline) > 0 {
		fmt.Fprintf(&b, " (%d offline: %s)", len(l.offline), strings.Join(l.offline, ", "))
	}
	if p := l.pin; p.TracksCached < p.Tracks {
		fmt.Fprintf(&b, "; pinned: %d of %d tracks cached", p.TracksCached, p.Tracks)
	}
	if !l.scanning {
		return b.String()
	}
	fmt.Fprintf(&b, "; scanning: %d files", l.files)
	if l.total > l.files {
		fmt.Fprintf(&b, " of ~%d", l.total)
	}
	if l.rate > 0 {
		fmt.Fprintf(&b, ", %.0f/s", l.rate)
		if l.total > l.files {
			eta := time.Duration(float64(l.total-l.files) / l.rate * float64(time.Second))
			fmt.Fprintf(&b, ", ~%v left", eta.Round(time.Second))
		}
	}
	return b.String()
}
