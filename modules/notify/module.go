// Package notify tells systemd about the daemon through sd_notify: READY=1 once
// the mount serves, STATUS= lines, WATCHDOG=1 pings backed by a probe of the
// mount, and STOPPING=1 first thing on shutdown.
package notify

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides the *Notifier and makes sure it is built, so it starts once
// its Prober (the mounted filesystem) has started, and stops first.
var Module = fx.Module("notify",
	fx.Provide(provide),
	fx.Invoke(func(*Notifier) {}),
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("notify") }),
)

// provide builds the Notifier and appends its hooks as it is built, after
// its dependencies': it starts after them and stops before them.
func provide(p Params, lc fx.Lifecycle) (*Notifier, error) {
	n, err := New(p)
	if err != nil {
		return nil, err
	}
	lc.Append(fx.StartStopHook(n.Start, n.Stop))
	return n, nil
}
