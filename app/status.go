package app

import (
	"fmt"
	"strings"

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
}

func newStatus(o origins.Set, ix *index.Index, t *tree.Tree) notify.Reporter {
	return &status{origins: o, index: ix, tree: t}
}

func (s *status) Status() string {
	var offline []string
	all := s.origins.List()
	for _, o := range all {
		if !o.Online() {
			offline = append(offline, o.Name())
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "serving %d tracks from %d origins", s.tree.Current().Tracks(), len(all))
	if len(offline) > 0 {
		fmt.Fprintf(&b, " (%d offline: %s)", len(offline), strings.Join(offline, ", "))
	}
	if st := s.index.Stats(); st.Scanning {
		fmt.Fprintf(&b, "; scanning, %d files so far", st.Files)
	}
	return b.String()
}
