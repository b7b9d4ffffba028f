package fusefs_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test stops what it mounted: no FUSE server, invalidator or probe
// goroutine may outlive it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
