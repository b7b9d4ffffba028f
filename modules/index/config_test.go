package index_test

import (
	"testing"

	"github.com/musicfs/musicfs/modules/index"
)

func TestConfigValidateNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		cfg  index.Config
		want string
	}{
		{index.Config{StateDir: "state"}, `state_dir: "state" must be an absolute path`},
		{index.Config{Workers: -1}, "index.workers: must not be negative"},
		{index.Config{FileTimeout: -1}, "index.file_timeout: must not be negative"},
	} {
		if err := tc.cfg.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	// Without a state_dir the index lives in memory only.
	for _, c := range []index.Config{{}, {StateDir: "/var/lib/musicfs"}} {
		if err := c.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v", c, err)
		}
	}
}
