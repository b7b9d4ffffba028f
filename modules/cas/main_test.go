package cas_test

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// Every store is stopped by its test: no fetch, promotion, scrub or writer
// goroutine may outlive it.
func TestMain(m *testing.M) {
	if os.Getenv(crashEnv) != "" {
		crashHelper()
		return
	}
	goleak.VerifyTestMain(m)
}
