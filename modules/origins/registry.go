package origins

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Params are the dependencies of New.
type Params struct {
	fx.In

	Config Config
	Logger *zap.Logger
}

// Registry is the Set of configured origins. It owns their health checks.
type Registry struct {
	locals []*Local
	list   []Origin
	byName map[string]*Local
}

var _ Set = (*Registry)(nil)

// New validates the configuration and builds the registry; it does no I/O.
func New(p Params) (*Registry, error) {
	if err := p.Config.withDefaults().Validate(); err != nil {
		return nil, err
	}
	r := &Registry{byName: make(map[string]*Local, len(p.Config.Origins))}
	for _, oc := range p.Config.Origins {
		l := NewLocal(oc, p.Config.ReadTimeout, p.Logger)
		r.locals = append(r.locals, l)
		r.list = append(r.list, l)
		r.byName[l.Name()] = l
	}
	return r, nil
}

// List returns the origins in configuration order. The slice is shared: do
// not modify it.
func (r *Registry) List() []Origin { return r.list }

// Get returns the origin called name.
func (r *Registry) Get(name string) (Origin, bool) {
	l, ok := r.byName[name]
	if !ok {
		return nil, false
	}
	return l, true
}

// maxStartCheck bounds the health checks in Start, well inside fx's start
// timeout: a hung mount must not keep the daemon from starting.
const maxStartCheck = 5 * time.Second

// Start checks every origin. An origin that is missing, unreadable or does
// not answer within min(read timeout, 5 s) is logged and marked offline;
// that is never an error: its tracks stay listed and it is checked again
// before each rescan.
func (r *Registry) Start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, maxStartCheck)
	defer cancel()
	r.Check(ctx)
	for _, l := range r.locals {
		if l.state.Load() == stateUnknown { // ctx ended before the check did
			l.setHealth(fmt.Errorf("no answer before the start deadline: %w", ErrTimeout))
		}
	}
	return nil
}

// Stop has nothing to stop yet; watchers will live here.
func (r *Registry) Stop(context.Context) error { return nil }

// Check re-checks every origin, concurrently, each bounded by the read
// timeout.
func (r *Registry) Check(ctx context.Context) {
	var wg sync.WaitGroup
	for _, l := range r.locals {
		wg.Go(func() { l.Check(ctx) })
	}
	wg.Wait()
}
