package origins

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	ok := OriginConfig{Name: "nas", Path: "/mnt/music"}
	tests := []struct {
		name string
		cfg  Config
		want string // substring of the error; "" for valid
	}{
		{"valid", Config{Origins: []OriginConfig{ok}, ReadTimeout: time.Second}, ""},
		{"zero timeout means default", Config{Origins: []OriginConfig{ok}}.withDefaults(), ""},
		{"no origins", Config{}, "origins: at least one"},
		{"bad name", Config{Origins: []OriginConfig{{Name: "My NAS", Path: "/x"}}}, "origins[0].name"},
		{"empty name", Config{Origins: []OriginConfig{{Path: "/x"}}}, "origins[0].name"},
		{"duplicate name", Config{Origins: []OriginConfig{ok, ok}}, "origins[1].name"},
		{"no path", Config{Origins: []OriginConfig{{Name: "a"}}}, "origins[0].path"},
		{"negative rescan", Config{Origins: []OriginConfig{{Name: "a", Path: "/x", RescanInterval: -1}}}, "origins[0].rescan_interval"},
		{"negative timeout", Config{Origins: []OriginConfig{ok}, ReadTimeout: -1}, "read_timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Validate() = %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// Every problem is reported, each with its full key and the same words as
// the rest of the configuration.
func TestConfigValidateNamesTheKey(t *testing.T) {
	cfg := Config{ReadTimeout: 0, Origins: []OriginConfig{
		{Name: "", Path: "/a"},
		{Name: "Nas", Path: "music"},
		{Name: "b", Path: ""},
		{Name: "b", Path: "/b", RescanInterval: -time.Second},
	}}
	want := strings.Join([]string{
		"origins[0].name: required",
		`origins[1].name: "Nas" must match [a-z0-9_-]+`,
		`origins[1].path: "music" must be an absolute path`,
		"origins[2].path: required",
		`origins[3].name: duplicate "b" (also origins[2])`,
		"origins[3].rescan_interval: must be >= 0",
		"read_timeout: must be > 0",
	}, "\n")
	if err := cfg.Validate(); err == nil || err.Error() != want {
		t.Fatalf("Validate() =\n%v\nwant\n%s", err, want)
	}
	if err := (Config{ReadTimeout: time.Second}).Validate(); err == nil || err.Error() != "origins: at least one origin is required" {
		t.Fatalf("no origins: %v", err)
	}
}
