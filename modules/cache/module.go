package cache

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides *Cache, which the app hands the store as its Space, and
// the *Worker over the store; the Invoke makes sure the Worker runs (and
// pins are fetched) even if nothing else asks for it.
var Module = fx.Module("cache",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("cache") }),
	fx.Provide(New, provideWorker),
	fx.Invoke(func(*Worker) {}),
)

// provideWorker builds the Worker and appends its hooks as it is built,
// after the store's and the tree's: it starts after them and stops before.
func provideWorker(p WorkerParams, lc fx.Lifecycle) *Worker {
	w := NewWorker(p)
	lc.Append(fx.StartStopHook(w.Start, w.Stop))
	return w
}
