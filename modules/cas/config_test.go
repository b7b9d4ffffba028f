package cas_test

import (
	"testing"

	"github.com/musicfs/musicfs/modules/cas"
)

func TestConfigValidateNamesTheKey(t *testing.T) {
	valid := cas.DefaultConfig()
	valid.Dir = "/var/cache/musicfs"
	for _, tc := range []struct {
		edit func(*cas.Config)
		want string
	}{
		{func(c *cas.Config) { c.Dir = "" }, "cache.dir: required"},
		{func(c *cas.Config) { c.Dir = "cache" }, `cache.dir: "cache" must be an absolute path`},
		{func(c *cas.Config) { c.Passthrough = "on" }, `cache.passthrough: "on" must be auto or off`},
		{func(c *cas.Config) { c.Passthrough = "" }, `cache.passthrough: "" must be auto or off`},
		{func(c *cas.Config) { c.BlockSize = 3 << 10 }, "cas: BlockSize 3072 must be a power of two of at least 1 KiB"},
		{func(c *cas.Config) { c.BlockSize = 512 }, "cas: BlockSize 512 must be a power of two of at least 1 KiB"},
	} {
		c := valid
		tc.edit(&c)
		if err := c.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate(%+v) = %v, want %q", c, err, tc.want)
		}
	}
	if err := valid.Validate(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}
