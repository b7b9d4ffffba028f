package config

import (
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    Size
		wantErr string
	}{
		{in: "0", want: 0},
		{in: "1048576", want: MiB},
		{in: "512MiB", want: 512 * MiB},
		{in: "20GiB", want: 20 * GiB},
		{in: "20gib", want: 20 * GiB},
		{in: "20 GiB", want: 20 * GiB},
		{in: "20G", want: 20 * GiB},
		{in: "20GB", want: 20_000_000_000},
		{in: "1kB", want: 1000},
		{in: "1.5GiB", want: 3 * GiB / 2},
		{in: ".5K", want: 512},
		{in: "100B", want: 100},
		{in: "1TiB", want: TiB},
		{in: "18446744073709551615", want: 1<<64 - 1},
		{in: "", wantErr: "invalid size"},
		{in: "GiB", wantErr: "invalid size"},
		{in: "20 gigs", wantErr: "invalid size"},
		{in: "-1", wantErr: "invalid size"},
		{in: "1.2.3G", wantErr: "invalid size"},
		{in: ".", wantErr: "invalid size"},
		{in: "18446744073709551616", wantErr: "out of range"},
		{in: "16384PiB", wantErr: "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSize(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseSize(%q) = %d, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestSizeStringRoundTrip(t *testing.T) {
	for _, s := range []Size{0, 1, 1000, KiB, 3 * GiB / 2, 20 * GiB, 7 * TiB, 1<<64 - 1} {
		back, err := ParseSize(s.String())
		if err != nil || back != s {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", s.String(), back, err, s)
		}
	}
	if got := (20 * GiB).String(); got != "20GiB" {
		t.Errorf("String() = %q, want 20GiB", got)
	}
}

func TestParseMinFree(t *testing.T) {
	tests := []struct {
		in      string
		want    MinFree
		of1000  uint64
		wantErr bool
	}{
		{in: "5%", want: MinFree{Percent: 5}, of1000: 50},
		{in: "2.5 %", want: MinFree{Percent: 2.5}, of1000: 25},
		{in: "0%", want: MinFree{}, of1000: 0},
		{in: "100", want: MinFree{Bytes: 100}, of1000: 100},
		{in: "1KiB", want: MinFree{Bytes: KiB}, of1000: 1024},
		{in: "100%", wantErr: true},
		{in: "-1%", wantErr: true},
		{in: "NaN%", wantErr: true},
		{in: "x%", wantErr: true},
		{in: "lots", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMinFree(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseMinFree(%q) = %+v, want error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseMinFree(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
			if n := got.Of(1000); n != tt.of1000 {
				t.Errorf("Of(1000) = %d, want %d", n, tt.of1000)
			}
			if back, err := ParseMinFree(got.String()); err != nil || back != got {
				t.Errorf("round trip %q: %+v, %v", got.String(), back, err)
			}
		})
	}
}
