// Command musicfs mounts a music library organised by its tags.
//
//	musicfs --config /etc/musicfs.yaml
//	musicfs --mountpoint ~/music --origin nas=/mnt/nas/music
//	musicfs check-config --config /etc/musicfs.yaml
//	musicfs version
//
// Exit codes: 0 clean stop, 1 runtime failure, 2 bad configuration or usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/musicfs/musicfs/app"
	"github.com/musicfs/musicfs/internal/mount"
	"github.com/musicfs/musicfs/modules/config"
	"github.com/musicfs/musicfs/modules/logging"
)

const (
	exitOK      = 0
	exitFailure = 1
	exitConfig  = 2
	// startTimeout bounds mounting: the janitor's stale-mount check and the
	// first snapshot are quick; scanning happens after READY.
	startTimeout = time.Minute
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

func main() {
	os.Exit(run(os.Args[1:], os.Environ(), os.Stdout, os.Stderr))
}

func run(args, environ []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "version":
			fmt.Fprintln(stdout, "musicfs", buildVersion())
			return exitOK
		case "check-config":
			cfg, code := load(args[1:], environ, stdout, stderr)
			if cfg == nil {
				return code
			}
			fmt.Fprintf(stdout, "configuration OK: mountpoint %s, %d origin(s)\n", cfg.FS.Mountpoint, len(cfg.Origins.Origins))
			return exitOK
		}
	}
	cfg, code := load(args, environ, stdout, stderr)
	if cfg == nil {
		return code
	}
	return serve(cfg, stderr)
}

// load loads and validates the configuration; on failure it prints why and
// returns the exit code.
func load(args, environ []string, stdout, stderr io.Writer) (*app.Config, int) {
	cfg, err := app.Load(args, environ)
	if err == nil {
		err = cfg.Validate()
	}
	switch {
	case err == nil:
		return cfg, exitOK
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintln(stdout, err)
		return nil, exitOK
	case errors.Is(err, config.ErrInvalid):
		fmt.Fprintln(stderr, "musicfs:", err)
		return nil, exitConfig
	default:
		fmt.Fprintln(stderr, "musicfs:", err)
		return nil, exitFailure
	}
}

func serve(cfg *app.Config, stderr io.Writer) int {
	// Signals are caught before starting so a SIGTERM during the mount
	// still stops cleanly.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer func() {
		signal.Stop(sigs)
		close(sigs) // ends the second-interrupt watcher below
	}()

	var (
		log   *zap.Logger
		hooks *logging.Hooks
	)
	daemon := fx.New(app.Options(cfg), fx.StartTimeout(startTimeout), fx.StopTimeout(cfg.ShutdownTimeout),
		fx.Populate(&log, &hooks))
	if err := daemon.Err(); err != nil {
		fmt.Fprintln(stderr, "musicfs:", err)
		return exitFailure
	}
	startCtx, cancel := context.WithTimeout(context.Background(), startTimeout)
	err := daemon.Start(startCtx)
	cancel()
	if err != nil {
		log.Error("start", zap.String("failed_in", hooks.Stuck()), zap.Error(err))
		return exitFailure
	}

	code := exitOK
	select {
	case s := <-sigs:
		log.Info("stopping", zap.String("signal", s.String()))
	case s := <-daemon.Wait():
		code = s.ExitCode
		log.Info("stopping", zap.Int("exit_code", code))
	}

	// A second SIGINT means the operator does not want to wait.
	go func() {
		for s := range sigs {
			if s == syscall.SIGINT {
				log.Warn("second interrupt: forcing exit")
				forceUnmount(log, cfg.FS.Mountpoint)
				os.Exit(exitFailure)
			}
		}
	}()

	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = daemon.Stop(stopCtx)
	switch {
	case stopCtx.Err() != nil:
		log.Error("shutdown did not finish in time", zap.Duration("shutdown_timeout", cfg.ShutdownTimeout),
			zap.String("stuck_in", hooks.Stuck()), zap.Error(err))
		forceUnmount(log, cfg.FS.Mountpoint)
		return exitFailure
	case err != nil:
		// Stopped, but something failed on the way (and was logged by fx).
		log.Error("stop", zap.String("failed_in", hooks.Stuck()), zap.Error(err))
		return exitFailure
	}
	return code
}

func forceUnmount(log *zap.Logger, mountpoint string) {
	if err := mount.Detach(mountpoint); err != nil {
		log.Error("lazy unmount", zap.String("mountpoint", mountpoint), zap.Error(err))
	}
	_ = log.Sync()
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
