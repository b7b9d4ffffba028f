package origins

// The debouncer: run collects changed paths here until a burst ends.

import (
	"path"
	"slices"
	"time"
)

// debouncer collects paths until debounceQuiet passes without a new one, or
// debounceMax after the first; the result waits in ready for the consumer,
// and merges with what follows while it waits.
type debouncer struct {
	origin  string
	pending map[string]struct{}
	rescan  bool
	first   time.Time
	timer   *time.Timer
	ready   *Change
}

func (s *debouncer) add(rel string) {
	now := time.Now()
	if len(s.pending) == 0 && !s.rescan {
		s.first = now
	}
	s.pending[rel] = struct{}{}
	s.timer.Reset(max(min(debounceQuiet, s.first.Add(debounceMax).Sub(now)), 0))
}

// rescanNow makes a Rescan change ready at once: there is nothing to wait
// for, and a full walk covers whatever is pending.
func (s *debouncer) rescanNow() {
	s.rescan = true
	s.flush()
}

func (s *debouncer) flush() {
	if len(s.pending) == 0 && !s.rescan {
		return
	}
	s.timer.Stop()
	c := Change{Origin: s.origin, Rescan: s.rescan}
	if s.ready != nil {
		c.Rescan = c.Rescan || s.ready.Rescan
		for _, p := range s.ready.Paths {
			s.pending[p] = struct{}{}
		}
	}
	if !c.Rescan {
		c.Paths = compact(s.pending)
	}
	s.ready = &c
	clear(s.pending)
	s.rescan = false
}

// compact sorts paths and drops those under another listed path: the
// consumer walks a listed directory whole.
func compact(set map[string]struct{}) []string {
	out := make([]string, 0, len(set))
	for p := range set {
		covered := false
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			if _, ok := set[d]; ok {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
