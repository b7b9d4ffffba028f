package fusefs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/internal/mount"
	"github.com/musicfs/musicfs/modules/content"
	"github.com/musicfs/musicfs/modules/tree"
)

// cacheTimeout is how long the kernel may cache entries and attributes. The
// tree only changes at a swap, and a swap invalidates what it changed, so this
// can be long; it is what makes warm directory walks cheap.
const cacheTimeout = time.Hour

// negativeTimeout is how long the kernel may remember that a name does not
// exist. Swaps invalidate those too; this only bounds what a lookup racing
// a swap could leave behind, and still spares players' repeated probes
// (cover.jpg, folder.jpg …) a round trip each.
const negativeTimeout = 10 * time.Second

// errLogEvery is how often a file's failed requests are logged at warn level.
const errLogEvery = 30 * time.Second

// FS is the mounted filesystem.
type FS struct {
	cfg      Config
	log      *zap.Logger
	tree     *tree.Tree
	contents *content.Contents
	backing  backing // which cached file each inode passed through
	// passthroughRefused is set once the kernel refused a backing file;
	// from then on the daemon serves cached files itself.
	passthroughRefused atomic.Bool
	errLog             errLog
	metrics            *metrics
	shutdowner         fx.Shutdowner
	owner              fuse.Owner
	started            time.Time

	server   *fuse.Server
	root     *dirNode
	connID   uint32       // FUSE connection id (minor of the mount's st_dev), for aborting
	stopping atomic.Bool  // set by Stop, so the serve watcher knows an unmount was ours
	inflight atomic.Int64 // operations being served, reported when a stop is stuck
	cancel   context.CancelFunc
	wg       sync.WaitGroup // the serve watcher and the invalidator
}

// New checks the configuration; it does no I/O.
func New(p Params) (*FS, error) {
	if err := p.Config.Validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(p.Registerer)
	if err != nil {
		return nil, fmt.Errorf("register fusefs metrics: %w", err)
	}
	return &FS{
		cfg:        p.Config,
		log:        p.Logger,
		tree:       p.Tree,
		contents:   p.Contents,
		errLog:     errLog{every: errLogEvery, now: time.Now},
		metrics:    m,
		shutdowner: p.Shutdowner,
		owner:      fuse.Owner{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())},
	}, nil
}

// Start mounts the filesystem and returns once the mount answers requests.
func (f *FS) Start(ctx context.Context) error {
	f.started = time.Now()
	// The snapshot the kernel may start caching from: swaps after it are
	// invalidated against it, even one that lands before the invalidation
	// goroutine first runs.
	served := f.tree.Current()
	f.root = &dirNode{fsys: f, ino: served.Root().Ino}
	timeout, negative := cacheTimeout, negativeTimeout
	opts := &fs.Options{
		MountOptions: fuse.MountOptions{
			FsName:      "musicfs",
			Name:        "musicfs",
			AllowOther:  f.cfg.AllowOther,
			Options:     []string{"ro", "default_permissions"},
			DirectMount: os.Geteuid() == 0,
			// Reads of up to one cache block (1 MiB) per request, and as much
			// readahead: go-fuse caps readahead at MaxWrite (128 KiB by
			// default), and a cold read costs a round trip per request.
			MaxReadAhead: 1 << 20,
			MaxWrite:     1 << 20,
			// Lets OPENDIR answer ENOSYS (see noOpendir).
			ExtraCapabilities: fuse.CAP_NO_OPENDIR_SUPPORT,
			// ENOSYS for xattrs makes the kernel stop asking: `ls -l`
			// would otherwise cost one round trip per entry.
			DisableXAttrs: true,
			PanicHandler: func(r any) fuse.Status {
				f.fusePanic(r)
				return fuse.EIO
			},
			Logger: zap.NewStdLog(f.log.Named("go-fuse")),
		},
		EntryTimeout:    &timeout,
		AttrTimeout:     &timeout,
		NegativeTimeout: &negative,
		RootStableAttr:  &fs.StableAttr{Ino: f.root.ino},
		UID:             f.owner.Uid,
		GID:             f.owner.Gid,
	}
	server, err := fuse.NewServer(&noOpendir{RawFileSystem: fs.NewNodeFS(f.root, opts)}, f.cfg.Mountpoint, &opts.MountOptions)
	if err != nil {
		return fmt.Errorf("mount %s: %w", f.cfg.Mountpoint, err)
	}
	go server.Serve() // ends when the mount goes; watchServe waits for it
	if err := server.WaitMount(); err != nil {
		return fmt.Errorf("mount %s: %w", f.cfg.Mountpoint, err)
	}
	f.server = server
	if err := f.Probe(ctx); err != nil {
		f.unmount()
		return fmt.Errorf("mount %s does not serve: %w", f.cfg.Mountpoint, err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(f.cfg.Mountpoint, &st); err == nil {
		f.connID = minor(st.Dev)
	}
	wctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.wg.Add(2)
	go f.watchServe()
	go f.invalidate(wctx, served)
	f.log.Info("mounted", zap.String("mountpoint", f.cfg.Mountpoint), zap.Int("tracks", f.tree.Current().Tracks()))
	return nil
}

// Stop unmounts. A busy mount (a player holding a file open) is detached
// lazily and its connection aborted, so readers get an error instead of
// keeping the daemon alive.
func (f *FS) Stop(ctx context.Context) error {
	f.stopping.Store(true)
	f.cancel()
	f.unmount()
	done := make(chan struct{})
	go func() { f.wg.Wait(); close(done) }()
	select {
	case <-done:
		f.log.Info("unmounted", zap.String("mountpoint", f.cfg.Mountpoint))
		return nil
	case <-ctx.Done():
		// Typically a read stuck on an origin that stopped answering.
		f.log.Error("FUSE server still busy at the stop deadline", zap.String("mountpoint", f.cfg.Mountpoint),
			zap.Int64("requests_in_flight", f.inflight.Load()))
		return fmt.Errorf("wait for FUSE server to exit: %w", ctx.Err())
	}
}

func (f *FS) unmount() {
	mp := f.cfg.Mountpoint
	err := unmount(mp)
	if err == nil || errors.Is(err, syscall.EINVAL) {
		return // unmounted, or already gone (removed from outside)
	}
	f.log.Warn("mount busy, detaching lazily", zap.String("mountpoint", mp), zap.Error(err))
	if err := mount.Detach(mp); err != nil {
		f.log.Error("lazy unmount", zap.String("mountpoint", mp), zap.Error(err))
	}
	if err := abortConn(f.connID); err != nil {
		// Without fusectl the connection ends when this process exits.
		f.log.Warn("abort FUSE connection", zap.Uint32("conn", f.connID), zap.Error(err))
	}
}

// watchServe waits for the FUSE server to end. If it ends without Stop, the
// mount was removed from outside: shut down with a failure exit code so a
// supervisor restarts us.
func (f *FS) watchServe() {
	defer f.wg.Done()
	f.server.Wait()
	if !f.stopping.Load() {
		f.log.Error("mount removed from outside; shutting down", zap.String("mountpoint", f.cfg.Mountpoint))
		if err := f.shutdowner.Shutdown(fx.ExitCode(1)); err != nil {
			f.log.Error("request shutdown", zap.Error(err))
		}
	}
}

// Probe checks that the mount answers a request. statfs is never answered
// from the kernel's caches, so it proves the daemon is serving.
func (f *FS) Probe(ctx context.Context) error {
	st, err := mount.Statfs(ctx, f.cfg.Mountpoint)
	if err == nil && st.Type != fuseSuperMagic {
		err = fmt.Errorf("%s is not a FUSE mount", f.cfg.Mountpoint)
	}
	return err
}

// path returns the virtual path of ino in the current snapshot, for logs.
func (f *FS) path(ino uint64) string {
	snap := f.tree.Current()
	if n := snap.Node(ino); n != nil {
		return snap.Path(n)
	}
	return ""
}
