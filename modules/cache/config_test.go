package cache_test

import (
	"strings"
	"testing"

	"github.com/musicfs/musicfs/modules/cache"
)

func TestValidate(t *testing.T) {
	ok := cache.Config{Dir: "/var/cache/musicfs", MaxSize: 20 << 30, MinFreePercent: 5}
	tests := []struct {
		name    string
		edit    func(*cache.Config)
		wantErr string // "" = valid
	}{
		{"valid", func(*cache.Config) {}, ""},
		{"pins", func(c *cache.Config) {
			c.Pin = []string{"Artists/Nina Simone/**", "Albums/{A,B}*", "Origins/nas/x.flac"}
		}, ""},
		{"no dir", func(c *cache.Config) { c.Dir = "" }, "cache.dir"},
		{"zero max", func(c *cache.Config) { c.MaxSize = 0 }, "cache.max_size"},
		{"negative min_free", func(c *cache.Config) { c.MinFreeBytes = -1; c.MinFreePercent = 0 }, "cache.min_free"},
		{"min_free 100%", func(c *cache.Config) { c.MinFreePercent = 100 }, "cache.min_free"},
		{"both min_free", func(c *cache.Config) { c.MinFreeBytes = 1 }, "cache.min_free"},
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
