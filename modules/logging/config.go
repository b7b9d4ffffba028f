package logging

// Config is the `log:` section plus where crash output goes.
type Config struct {
	Level  string `koanf:"level"`  // debug | info | warn | error
	Format string `koanf:"format"` // console | json
	// StateDir holds crash.log (runtime/debug.SetCrashOutput); from state_dir.
	StateDir string `koanf:"-"`
}
