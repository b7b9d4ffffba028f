package config

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Size is a number of bytes, written in the configuration as plain bytes
// ("1048576") or with a unit: "512MiB", "20GiB", "1.5G" (binary: K, M, G, T,
// P with or without "iB") or "20GB" (decimal: kB, MB, GB, TB, PB).
type Size uint64

// Byte multiples.
const (
	KiB Size = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
	PiB
)

var sizeUnits = map[string]uint64{
	"": 1, "b": 1,
	"k": uint64(KiB), "kib": uint64(KiB), "kb": 1e3,
	"m": uint64(MiB), "mib": uint64(MiB), "mb": 1e6,
	"g": uint64(GiB), "gib": uint64(GiB), "gb": 1e9,
	"t": uint64(TiB), "tib": uint64(TiB), "tb": 1e12,
	"p": uint64(PiB), "pib": uint64(PiB), "pb": 1e15,
}

// ParseSize parses a size as described on Size. Fractions are rounded down
// to whole bytes.
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	end := 0
	for end < len(t) && (t[end] >= '0' && t[end] <= '9' || t[end] == '.') {
		end++
	}
	num, unit := t[:end], strings.ToLower(strings.TrimSpace(t[end:]))
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("invalid size %q (want bytes or a number with a unit such as 512MiB or 20GiB)", s)
	}
	intPart, fracPart, _ := strings.Cut(num, ".")
	if strings.Contains(fracPart, ".") || intPart == "" && fracPart == "" {
		return 0, fmt.Errorf("invalid size %q", s)
	}
	var whole uint64
	if intPart != "" {
		var err error
		whole, err = strconv.ParseUint(intPart, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid size %q: %w", s, errSizeRange)
		}
	}
	hi, n := bits.Mul64(whole, mult)
	if hi != 0 {
		return 0, fmt.Errorf("invalid size %q: %w", s, errSizeRange)
	}
	if fracPart != "" {
		f, err := strconv.ParseFloat("0."+fracPart, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid size %q", s)
		}
		extra := uint64(f * float64(mult)) // < mult, so no overflow
		if n+extra < n {
			return 0, fmt.Errorf("invalid size %q: %w", s, errSizeRange)
		}
		n += extra
	}
	return Size(n), nil
}

var errSizeRange = errors.New("out of range")

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText implements encoding.TextMarshaler, so a Size prints back in
// the form it is written in.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// String returns the size in the largest binary unit that divides it exactly,
// e.g. "20GiB", or in bytes.
func (s Size) String() string {
	for _, u := range []struct {
		name string
		n    Size
	}{{"PiB", PiB}, {"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if s != 0 && s%u.n == 0 {
			return strconv.FormatUint(uint64(s/u.n), 10) + u.name
		}
	}
	return strconv.FormatUint(uint64(s), 10)
}

// MinFree is the space to keep free on the cache filesystem: either a
// percentage of its size ("5%") or a Size ("10GiB").
type MinFree struct {
	// Percent of the filesystem's size, in [0, 100); used when set.
	Percent float64
	// Bytes is used when Percent is 0.
	Bytes Size
}

// ParseMinFree parses "5%", "2.5%" or a size.
func ParseMinFree(s string) (MinFree, error) {
	t := strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(t, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || f < 0 || f >= 100 {
			return MinFree{}, fmt.Errorf("invalid percentage %q (want 0%% to 99%%)", s)
		}
		return MinFree{Percent: f}, nil
	}
	n, err := ParseSize(t)
	if err != nil {
		return MinFree{}, err
	}
	return MinFree{Bytes: n}, nil
}

// Of returns the number of bytes to keep free on a filesystem of total bytes.
func (m MinFree) Of(total uint64) uint64 {
	if m.Percent > 0 {
		return uint64(float64(total) * m.Percent / 100)
	}
	return uint64(m.Bytes)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *MinFree) UnmarshalText(b []byte) error {
	v, err := ParseMinFree(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (m MinFree) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

func (m MinFree) String() string {
	if m.Percent > 0 {
		return strconv.FormatFloat(m.Percent, 'f', -1, 64) + "%"
	}
	return m.Bytes.String()
}
