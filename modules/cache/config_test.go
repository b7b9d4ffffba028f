package cache_test

import (
	"strings"
	"testing"

	"github.com/musicfs/musicfs/modules/cache"
	"github.com/musicfs/musicfs/modules/config"
)

func TestValidate(t *testing.T) {
	ok := cache.Config{MaxSize: 20 << 30, MinFree: config.MinFree{Percent: 5}}
	tests := []struct {
		name    string
		edit    func(*cache.Config)
		wantErr string // "" = valid
	}{
		{"valid", func(*cache.Config) {}, ""},
		{"pins", func(c *cache.Config) {
			c.Pin = []string{"Artists/Nina Simone/**", "Albums/{A,B}*", "Origins/nas/x.flac"}
		}, ""},
		{"zero max", func(c *cache.Config) { c.MaxSize = 0 }, "cache.max_size"},
		{"min_free 100%", func(c *cache.Config) { c.MinFree.Percent = 100 }, "cache.min_free"},
		{"both min_free", func(c *cache.Config) { c.MinFree.Bytes = 1 }, "cache.min_free"},
		{"bad glob", func(c *cache.Config) { c.Pin = []string{"ok/**", "Artists/[Nina"} }, `cache.pin[1]: "Artists/[Nina"`},
		{"unclosed brace", func(c *cache.Config) { c.Pin = []string{"Artists/{A,B"} }, "cache.pin[0]"},
		{"empty pattern", func(c *cache.Config) { c.Pin = []string{"a", "b", "/"} }, "cache.pin[2]"},
		{"dot dot", func(c *cache.Config) { c.Pin = []string{"Artists/../x"} }, "cache.pin[0]"},
		{"empty element", func(c *cache.Config) { c.Pin = []string{"Artists//x"} }, "cache.pin[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
	if err := cache.ValidatePin([]string{"a/**", "[", "b"}); err == nil || !strings.HasPrefix(err.Error(), "cache.pin[1]: ") {
		t.Fatalf("ValidatePin = %v", err)
	}
}

func TestConfigValidateNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		cfg  cache.Config
		want string
	}{
		{cache.Config{}, "cache.max_size: must be > 0"},
		{cache.Config{MaxSize: 1, MinFree: config.MinFree{Percent: 120}}, "cache.min_free: must be between 0% and 99%, got 120%"},
		{cache.Config{MaxSize: 1, MinFree: config.MinFree{Percent: 5, Bytes: 1}}, "cache.min_free: set bytes or a percentage, not both"},
		{cache.Config{MaxSize: 1, Pin: []string{"a", "b/../c"}}, `cache.pin[1]: "b/../c": ".." is not allowed in a virtual path`},
	} {
		if err := tc.cfg.Validate(); err == nil || err.Error() != tc.want {
			t.Errorf("Validate(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
	if err := cache.DefaultConfig().Validate(); err != nil {
		t.Errorf("defaults refused: %v", err)
	}
}
