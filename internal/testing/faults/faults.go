// Package faults has origin and index wrappers that misbehave on purpose,
// for injecting failures with fx.Decorate. Each one is harmless until armed,
// so a daemon can start and scan normally before the fault is switched on.
package faults

import (
	"context"
	"sync/atomic"

	"github.com/musicfs/musicfs/modules/index"
	"github.com/musicfs/musicfs/modules/origins"
)

// PanicSet is an origins.Set whose file at one relpath panics in ReadAt once
// armed, as a bug in a reader would.
type PanicSet struct {
	origins.Set
	path  string
	armed atomic.Bool
}

// PanicOnRead wraps s; files opened at relpath panic on ReadAt after Arm.
func PanicOnRead(s origins.Set, relpath string) *PanicSet {
	return &PanicSet{Set: s, path: relpath}
}

// Arm switches the fault on.
func (p *PanicSet) Arm() { p.armed.Store(true) }

// Get wraps the named origin.
func (p *PanicSet) Get(name string) (origins.Origin, bool) {
	o, ok := p.Set.Get(name)
	if !ok {
		return nil, false
	}
	return panicOrigin{o, p}, true
}

// List wraps every origin.
func (p *PanicSet) List() []origins.Origin {
	var out []origins.Origin
	for _, o := range p.Set.List() {
		out = append(out, panicOrigin{o, p})
	}
	return out
}

type panicOrigin struct {
	origins.Origin
	set *PanicSet
}

func (o panicOrigin) Open(ctx context.Context, rel string) (origins.File, error) {
	f, err := o.Origin.Open(ctx, rel)
	if err != nil || rel != o.set.path || !o.set.armed.Load() {
		return f, err
	}
	return PanickingFile{f}, nil
}

// PanickingFile panics on every ReadAt.
type PanickingFile struct{ origins.File }

// ReadAt panics.
func (PanickingFile) ReadAt(context.Context, []byte, int64) (int, error) {
	panic("faults: injected reader panic")
}

// PanicSource is an index.Source whose Tracks panics once after Arm, so the
// tree rebuild that calls it blows up.
type PanicSource struct {
	index.Source
	armed  atomic.Bool
	panics atomic.Int64
}

// NewPanicSource wraps s.
func NewPanicSource(s index.Source) *PanicSource { return &PanicSource{Source: s} }

// Arm makes the next call to Tracks panic.
func (p *PanicSource) Arm() { p.armed.Store(true) }

// Tracks panics once when armed and delegates otherwise.
func (p *PanicSource) Tracks() []*index.Track {
	if p.armed.CompareAndSwap(true, false) {
		p.panics.Add(1)
		panic("faults: injected panic in a tree rebuild")
	}
	return p.Source.Tracks()
}

// Panics is how many times Tracks panicked.
func (p *PanicSource) Panics() int64 { return p.panics.Load() }
