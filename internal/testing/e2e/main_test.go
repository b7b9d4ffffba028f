package e2e

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test stops what it started: no goroutine of the daemon (FUSE server,
// scanner, tree rebuilds, notifier, signal handler) may outlive it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
