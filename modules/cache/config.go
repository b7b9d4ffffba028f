package cache

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/musicfs/musicfs/modules/config"
)

// Config is the cache module's slice of the root configuration: it owns
// cache.max_size, cache.min_free and cache.pin.
type Config struct {
	// MaxSize is cache.max_size.
	MaxSize config.Size `koanf:"max_size"`
	// MinFree is cache.min_free: bytes, or a percentage of the cache
	// filesystem, to keep free on it.
	MinFree config.MinFree `koanf:"min_free"`
	// Pin is cache.pin: virtual paths or globs ("**" spans directories)
	// whose tracks are fetched in full and never evicted.
	Pin []string `koanf:"pin"`
	// Dir is the store's cache.dir; its filesystem is the one min_free
	// protects.
	Dir string `koanf:"-"`
	// Uncached names the origins with cache: false, whose files are never
	// pinned.
	Uncached []string `koanf:"-"`
}

// Defaults of Config.
const DefaultMaxSize = 20 * config.GiB

// DefaultMinFree is the default cache.min_free.
var DefaultMinFree = config.MinFree{Percent: 5}

// DefaultConfig returns the defaults: nothing pinned.
func DefaultConfig() Config { return Config{MaxSize: DefaultMaxSize, MinFree: DefaultMinFree} }

// Validate reports every problem, each naming its full key.
func (c Config) Validate() error {
	errs := []error{config.Positive("cache.max_size", c.MaxSize)}
	switch p := c.MinFree.Percent; {
	case p < 0 || p >= 100 || math.IsNaN(p):
		errs = append(errs, fmt.Errorf("cache.min_free: must be between 0%% and 99%%, got %v%%", p))
	case p > 0 && c.MinFree.Bytes > 0:
		errs = append(errs, errors.New("cache.min_free: set bytes or a percentage, not both"))
	}
	return errors.Join(append(errs, ValidatePin(c.Pin))...)
}

// ValidatePin checks cache.pin patterns; an error names the bad one as
// cache.pin[i].
func ValidatePin(patterns []string) error {
	var errs []error
	for i, p := range patterns {
		if _, err := cleanPattern(p); err != nil {
			errs = append(errs, fmt.Errorf("cache.pin[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// cleanPattern returns p as matched against virtual paths: relative to the
// mount root, without a leading or trailing slash.
func cleanPattern(p string) (string, error) {
	c := strings.Trim(p, "/")
	switch {
	case c == "":
		return "", fmt.Errorf("%q: empty pattern", p)
	case strings.Contains(c, "//"):
		return "", fmt.Errorf("%q: empty path element", p)
	case !doublestar.ValidatePattern(c):
		return "", fmt.Errorf("%q: invalid glob", p)
	}
	for seg := range strings.SplitSeq(c, "/") {
		if seg == "." || seg == ".." {
			return "", fmt.Errorf("%q: %q is not allowed in a virtual path", p, seg)
		}
	}
	return c, nil
}

// Options tune the background work; the zero value means the defaults.
// Tests shorten the intervals and replace the statfs call.
type Options struct {
	// Statfs reports the cache filesystem's size; unix.Statfs by default.
	Statfs func(dir string) (Disk, error)
	// CheckInterval is how often limits are re-checked when nothing is
	// written, so that min_free holds while other programs fill the disk.
	CheckInterval time.Duration
	// TrimDelay is how long after a granted write the limits are checked
	// again (coalescing a burst of writes into one check).
	TrimDelay time.Duration
	// PinRetry is the first delay before a failed pinned fetch is retried;
	// it doubles up to PinRetryMax.
	PinRetry, PinRetryMax time.Duration
	// PinRecheck is how often the complete pinned tracks are checked
	// again (the store may have dropped a corrupt one).
	PinRecheck time.Duration
	// NoSpaceRetry is how long a "no room" answer (ErrNoSpace from
	// MakeRoom or Reclaim) is given again without listing the entries,
	// unless the cache evicted something meanwhile. Readers closing files
	// are not seen, so this bounds how long their entries stay unevictable.
	NoSpaceRetry time.Duration
	// TreePoll is how often the current tree snapshot is compared with the
	// one the pins were resolved against.
	TreePoll time.Duration
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.CheckInterval, 30*time.Second)
	def(&o.TrimDelay, 250*time.Millisecond)
	def(&o.PinRetry, 5*time.Second)
	def(&o.PinRetryMax, 5*time.Minute)
	def(&o.PinRecheck, 10*time.Minute)
	def(&o.TreePoll, time.Second)
	def(&o.NoSpaceRetry, time.Second)
	if o.Statfs == nil {
		o.Statfs = Statfs
	}
	return o
}
