package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/moby/sys/mountinfo"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/internal/bounded"
	"github.com/musicfs/musicfs/modules/origins"
)

// MountChecker reports whether root is a mount point. The default is
// mountinfo.Mounted; tests provide their own through fx.
type MountChecker func(root string) (bool, error)

// health is the index's verdict on an origin before it walks it.
type health struct {
	ok         bool
	reason     string // why not ok
	mounted    bool   // root is a mount point (valid when mountKnown)
	mountKnown bool
}

// checkOrigin decides whether o's root can be trusted to say which files were
// deleted. It is offline when its root is missing or unreadable, when it is
// empty while the index holds held files from it (an unmounted or emptied
// share), or when it was a mount point at the last complete walk and no
// longer is (the mount is gone; the directory under it is not the library).
// Each check is bounded by the read timeout, so a hung NAS cannot hang it.
func (ix *Index) checkOrigin(ctx context.Context, o origins.Origin, held int, meta originMeta) health {
	if !o.Check(ctx) {
		return health{reason: "root missing or unreadable"}
	}
	root := o.Root()
	h := health{ok: true}
	if root == "" {
		return h // not a local directory: no mount point, no emptiness to check
	}
	mounted, err := bounded.Call(ctx, ix.cfg.ReadTimeout, nil, func() (bool, error) { return ix.mounted(root) }, nil)
	switch {
	case err == nil:
		h.mounted, h.mountKnown = mounted, true
	case ctx.Err() != nil:
		return health{reason: "cancelled"}
	default:
		ix.log.Debug("mount point check failed; not used", zap.String("origin", o.Name()), zap.Error(err))
	}
	if meta.mountpoint && h.mountKnown && !h.mounted {
		return health{reason: "root is no longer a mount point"}
	}
	if held > 0 {
		empty, err := bounded.Call(ctx, ix.cfg.ReadTimeout, nil, func() (bool, error) { return emptyDir(root) }, nil)
		switch {
		case ctx.Err() != nil:
			return health{reason: "cancelled"}
		case err != nil:
			return health{reason: fmt.Sprintf("root unreadable: %v", err)}
		case empty:
			return health{reason: fmt.Sprintf("root is empty but the index holds %d files from it", held)}
		}
	}
	return h
}

func emptyDir(dir string) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = f.Readdirnames(1)
	if errors.Is(err, io.EOF) {
		return true, nil
	}
	return false, err
}

func defaultMountChecker(root string) (bool, error) { return mountinfo.Mounted(root) }

// setOffline records that the index treats origin as offline, warning once.
func (ix *Index) setOffline(origin, reason string, held int) {
	ix.offMu.Lock()
	_, was := ix.offline[origin]
	ix.offline[origin] = reason
	ix.offMu.Unlock()
	if !was {
		ix.log.Warn("origin offline: keeping its tracks, deleting nothing until it is back",
			zap.String("origin", origin), zap.String("reason", reason), zap.Int("files", held))
	}
}

// setOnline records that origin was walked completely, logging a return.
func (ix *Index) setOnline(origin string) {
	ix.offMu.Lock()
	_, was := ix.offline[origin]
	delete(ix.offline, origin)
	ix.offMu.Unlock()
	if was {
		ix.log.Info("origin back: changes made while it was offline are applied", zap.String("origin", origin))
	}
}

func (ix *Index) isOffline(origin string) bool {
	ix.offMu.Lock()
	defer ix.offMu.Unlock()
	_, ok := ix.offline[origin]
	return ok
}

// Offline returns the names of the origins the index currently treats as
// offline (their tracks kept, nothing deleted), sorted.
func (ix *Index) Offline() []string {
	ix.offMu.Lock()
	names := make([]string, 0, len(ix.offline))
	for name := range ix.offline {
		names = append(names, name)
	}
	ix.offMu.Unlock()
	slices.Sort(names)
	return names
}
