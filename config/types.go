package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/floodgate/floodgate/internal/bytesize"
)

// Size is a number of bytes. In TOML it is a string with a unit ("64KiB",
// "1.5MiB", "10MB") or a plain integer of bytes.
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   float64
}{
	// Longest suffixes first, so "KiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30},
	{"B", 1},
}

// ParseSize reads "64KiB", "1MiB", "10MB", "512B" or "512".
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("empty size")
	}
	mult := 1.0
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			mult = u.mult
			t = strings.TrimSpace(strings.TrimSuffix(t, u.suffix))
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit B, KiB, MiB, GiB, TiB, KB, MB, GB", s)
	}
	b := v * mult
	if b > math.MaxInt64/2 {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return Size(b), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (z *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*z = v
	return nil
}

// String renders the size with the largest binary unit that divides it.
func (z Size) String() string { return bytesize.Format(int64(z)) }

// Duration is a time.Duration written as "30s", "5m", "1h30m". A bare
// integer is an error: TOML has no unit for it, and nanoseconds are never
// what an operator meant.
type Duration time.Duration

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return fmt.Errorf("duration %s has no unit: write it as a string such as \"%ss\"", s, s)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: want a number with a unit (ms, s, m, h)", s)
	}
	if v < 0 {
		return fmt.Errorf("duration %q is negative", s)
	}
	*d = Duration(v)
	return nil
}

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String renders d as time.Duration does.
func (d Duration) String() string { return time.Duration(d).String() }

// Space is free space on a filesystem: a Size in bytes, or a percentage of
// the filesystem's size ("5%").
type Space struct {
	Bytes   Size
	Percent float64 // 0 to 100; used when not zero
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Space) UnmarshalText(b []byte) error {
	t := strings.TrimSpace(string(b))
	if p, ok := strings.CutSuffix(t, "%"); ok {
		v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || v < 0 || v > 100 {
			return fmt.Errorf("percentage %q: want a number from 0 to 100 followed by %%", t)
		}
		*s = Space{Percent: v}
		return nil
	}
	z, err := ParseSize(t)
	if err != nil {
		return err
	}
	*s = Space{Bytes: z}
	return nil
}

// Of returns the space in bytes on a filesystem of total bytes.
func (s Space) Of(total uint64) uint64 {
	if s.Percent > 0 {
		return uint64(float64(total) * s.Percent / 100)
	}
	return uint64(s.Bytes)
}

// IsZero reports whether no space was set.
func (s Space) IsZero() bool { return s.Bytes == 0 && s.Percent == 0 }

// String renders the space as it would be written.
func (s Space) String() string {
	if s.Percent > 0 {
		return strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%"
	}
	return s.Bytes.String()
}
