package notify

import "time"

// DefaultStatusInterval is how often a changed STATUS= is re-sent.
const DefaultStatusInterval = 10 * time.Second

// Options tunes the notifier; the zero value means the defaults. It is not
// part of the user's configuration: systemd itself sets the watchdog interval.
type Options struct {
	// StatusInterval is how often Reporter.Status is polled and, when it
	// changed, sent as STATUS=.
	StatusInterval time.Duration
}

// Validate reports an unusable option.
func (o Options) Validate() error {
	if o.StatusInterval < 0 {
		return errNegativeInterval
	}
	return nil
}

func (o Options) withDefaults() Options {
	if o.StatusInterval == 0 {
		o.StatusInterval = DefaultStatusInterval
	}
	return o
}
