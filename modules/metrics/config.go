package metrics

// Config is the `metrics:` section.
type Config struct {
	// Listen is the address of the /metrics HTTP listener; empty disables it.
	Listen string `koanf:"listen"`
}
