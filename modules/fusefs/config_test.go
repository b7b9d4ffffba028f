package fusefs_test

import (
	"testing"

	"github.com/musicfs/musicfs/modules/fusefs"
)

func TestConfigValidateNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		cfg  fusefs.Config
		want string
	}{
		{fusefs.Config{}, "mountpoint: required"},
		{fusefs.Config{Mountpoint: "music"}, `mountpoint: "music" must be an absolute path`},
	} {
		if err := tc.cfg.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := (fusefs.Config{Mountpoint: "/srv/music", AllowOther: true}).Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}
