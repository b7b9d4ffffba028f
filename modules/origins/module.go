package origins

import (
	"go.uber.org/fx"
	"go.uber.org/zap"
)

// Module provides the origins.Set. Only the interface is provided, so that
// tests and later features can wrap it with
// fx.Decorate(func(s origins.Set) origins.Set { ... }).
var Module = fx.Module("origins",
	fx.Decorate(func(l *zap.Logger) *zap.Logger { return l.Named("origins") }),
	fx.Provide(fx.Annotate(New, fx.As(new(Set)))),
)
