package cache

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// Config is the cache module's slice of the root configuration (the
// `cache:` section).
type Config struct {
	// Dir is cache.dir; its filesystem is the one min_free protects.
	Dir string
	// MaxSize is cache.max_size in bytes.
	MaxSize int64
	// MinFreeBytes and MinFreePercent are cache.min_free, as bytes or as a
	// percentage of the cache filesystem; at most one is set.
	MinFreeBytes   int64
	MinFreePercent float64
	// Pin is cache.pin: virtual paths or globs ("**" spans directories)
	// whose tracks are fetched in full and never evicted.
	Pin []string
	// Uncached names the origins with cache: false, whose files are never
	// pinned.
	Uncached []string
}

// Validate checks the configuration; errors name the full key.
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return errors.New("cache.dir: must be set")
	case c.MaxSize <= 0:
		return errors.New("cache.max_size: must be > 0")
	case c.MinFreeBytes < 0:
		return errors.New("cache.min_free: must not be negative")
	case c.MinFreePercent < 0 || c.MinFreePercent >= 100 || math.IsNaN(c.MinFreePercent):
		return fmt.Errorf("cache.min_free: %v%% is not between 0%% and 99%%", c.MinFreePercent)
	case c.MinFreeBytes > 0 && c.MinFreePercent > 0:
		return errors.New("cache.min_free: set bytes or a percentage, not both")
	}
	return ValidatePin(c.Pin)
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
