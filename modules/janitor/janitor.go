package janitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/sys/mountinfo"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"

	"github.com/musicfs/musicfs/internal/mount"
)

// ErrMounted means a live, serving FUSE filesystem is already mounted on the
// mountpoint, most likely another instance of the daemon.
var ErrMounted = errors.New("mountpoint already mounted and serving")

// maxStacked bounds how many stacked dead mounts are removed from one path.
const maxStacked = 16

// maxLinks bounds symlink resolution, as the kernel's ELOOP limit does.
const maxLinks = 40

// Params are the Janitor's dependencies.
type Params struct {
	fx.In

	Config Config
	Logger *zap.Logger
}

// Janitor owns the mountpoint until the filesystem is mounted on it.
type Janitor struct {
	cfg Config
	log *zap.Logger
}

// New validates the config; it does no I/O. Prepare does the work.
func New(p Params) (*Janitor, error) {
	if p.Logger == nil {
		return nil, errors.New("janitor: Logger is required")
	}
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	cfg := p.Config
	if cfg.StatTimeout == 0 {
		cfg.StatTimeout = DefaultStatTimeout
	}
	return &Janitor{cfg: cfg, log: p.Logger}, nil
}

// Prepare makes the mountpoint ready to mount on: it removes dead FUSE
// mounts there, refuses a live one (ErrMounted), creates the directory if
// only it is missing, and refuses a non-directory or a non-empty directory.
func (j *Janitor) Prepare(ctx context.Context) error {
	mp, err := resolve(j.cfg.Mountpoint)
	if err != nil {
		return err
	}
	if err := j.clearStale(ctx, mp); err != nil {
		return err
	}
	return j.checkDir(mp)
}

// clearStale handles the FUSE mounts on mp, topmost first. It never stats mp
// before knowing from mountinfo whether a possibly hung mount is there.
func (j *Janitor) clearStale(ctx context.Context, mp string) error {
	for range maxStacked {
		m, err := topMount(mp)
		if err != nil {
			return err
		}
		if m == nil || !isFUSE(m.FSType) {
			return nil // other filesystems may be mounted over
		}
		reason, dead := j.probe(ctx, mp)
		if ctx.Err() != nil {
			return fmt.Errorf("check mount on %s: %w", mp, ctx.Err())
		}
		if !dead {
			return &mountedError{mountpoint: mp, fstype: m.FSType}
		}
		if err := mount.Detach(mp); err != nil {
			return fmt.Errorf("remove stale mount on %s (%s): %w", mp, reason, err)
		}
		j.log.Warn("removed stale mount",
			zap.String("mountpoint", mp), zap.String("fstype", m.FSType), zap.String("reason", reason))
	}
	return fmt.Errorf("mountpoint %s: more than %d stale mounts stacked on it", mp, maxStacked)
}

// probe asks the server at mp for statfs, within StatTimeout. A dead server
// answers ENOTCONN (or ECONNABORTED once its connection was aborted); a hung
// one does not answer.
func (j *Janitor) probe(ctx context.Context, mp string) (reason string, dead bool) {
	pctx, cancel := context.WithTimeout(ctx, j.cfg.StatTimeout)
	defer cancel()
	_, err := mount.Statfs(pctx, mp)
	switch {
	case err == nil:
		return "", false
	case ctx.Err() != nil:
		return "", false // our own cancellation says nothing about the mount
	case pctx.Err() != nil:
		return fmt.Sprintf("statfs did not answer within %s", j.cfg.StatTimeout), true
	case errors.Is(err, unix.ENOTCONN), errors.Is(err, unix.ECONNABORTED):
		return "statfs: " + err.Error(), true
	default:
		// Some other error from a server that answers: it is alive.
		return "", false
	}
}

// checkDir creates a missing mountpoint whose parent exists and refuses
// anything but an empty directory: mounting would hide its contents.
func (j *Janitor) checkDir(mp string) error {
	fi, err := os.Stat(mp)
	switch {
	case errors.Is(err, os.ErrNotExist):
		parent := filepath.Dir(mp)
		if pfi, perr := os.Stat(parent); perr != nil || !pfi.IsDir() {
			return fmt.Errorf("mountpoint %s: parent directory %s does not exist", mp, parent)
		}
		if err := os.Mkdir(mp, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("create mountpoint: %w", err)
		}
		j.log.Info("created mountpoint", zap.String("mountpoint", mp))
		return nil
	case err != nil:
		return fmt.Errorf("mountpoint: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("mountpoint %s is not a directory", mp)
	}
	d, err := os.Open(mp)
	if err != nil {
		return fmt.Errorf("mountpoint: %w", err)
	}
	defer d.Close()
	if _, err := d.Readdirnames(1); err == nil {
		return fmt.Errorf("mountpoint %s is not empty", mp)
	} else if !errors.Is(err, io.EOF) {
		return fmt.Errorf("read mountpoint: %w", err)
	}
	return nil
}

// resolve makes p absolute and resolves symlinks without stat-ing p: a stat
// of a hung mount would block.
func resolve(p string) (string, error) {
	for range maxLinks {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("mountpoint %s: %w", p, err)
		}
		dir, base := filepath.Split(abs)
		if base == "" {
			return "", fmt.Errorf("mountpoint %s: cannot mount on /", p)
		}
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real // a missing parent is reported by checkDir
		}
		cand := filepath.Join(dir, base)
		// Safe on a dead or hung mount: readlink of a mount root fails with
		// EINVAL without asking the FUSE server.
		target, err := os.Readlink(cand)
		if err != nil {
			return cand, nil // not a symlink, or missing
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		p = target
	}
	return "", fmt.Errorf("mountpoint %s: too many levels of symbolic links", p)
}

// topMount returns the mount on mp visible to path lookups (the last one
// stacked there), or nil.
func topMount(mp string) (*mountinfo.Info, error) {
	ms, err := mountinfo.GetMounts(func(i *mountinfo.Info) (skip, stop bool) {
		return i.Mountpoint != mp, false
	})
	if err != nil {
		return nil, fmt.Errorf("read mountinfo: %w", err)
	}
	if len(ms) == 0 {
		return nil, nil
	}
	return ms[len(ms)-1], nil
}

// isFUSE covers "fuse", "fuse.<subtype>" and "fuseblk" (not "fusectl").
func isFUSE(fstype string) bool {
	return fstype == "fuse" || fstype == "fuseblk" || strings.HasPrefix(fstype, "fuse.")
}

type mountedError struct{ mountpoint, fstype string }

func (e *mountedError) Error() string {
	return fmt.Sprintf("mountpoint %s is already mounted and serving (fstype %s); stop the other instance first",
		e.mountpoint, e.fstype)
}

func (e *mountedError) Is(target error) bool { return target == ErrMounted }
