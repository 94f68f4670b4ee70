package main

import (
	"math"
	"testing"
)

func TestParseThermal(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"48312\n", 48.312, true},
		{"-5000", -5, true},
		{"  61000  \n", 61, true},
		{"", 0, false},
		{"hot", 0, false},
		{"48.3", 0, false},
		{"999999999", 0, false},
		{"99999999999999999999999", 0, false},
	} {
		got, err := parseThermal([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && math.Abs(got-tc.want) > 1e-9) {
			t.Errorf("parseThermal(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseLoadAvg(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0.52 0.58 0.59 1/467 12345\n", 0.52, true},
		{"3", 3, true},
		{"", 0, false},
		{"\n\n", 0, false},
		{"NaN 1 1", 0, false},
		{"-1 0 0", 0, false},
		{"Inf", 0, false},
	} {
		got, err := parseLoadAvg([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseLoadAvg(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestParseMemInfo(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"MemTotal:        1000 kB\nMemFree:  100 kB\nMemAvailable:     250 kB\n", 75, true},
		{"MemAvailable: 0 kB\nMemTotal: 10 kB", 100, true},
		{"MemTotal: 10 kB\n", 0, false},
		{"MemTotal: 0 kB\nMemAvailable: 0 kB\n", 0, false},
		{"MemTotal: 10 kB\nMemAvailable: 20 kB\n", 0, false},
		{"MemTotal: -10 kB\nMemAvailable: 5 kB\n", 0, false},
		{"MemTotal:\nMemAvailable:\n", 0, false},
		{"garbage", 0, false},
		{"", 0, false},
	} {
		got, err := parseMemInfo([]byte(tc.in))
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("parseMemInfo(%q) = %v, %v; want %v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

// FuzzSysParsers: no input makes a parser panic or return an implausible
// value without an error.
func FuzzSysParsers(f *testing.F) {
	f.Add([]byte("48312\n"))
	f.Add([]byte("0.52 0.58 0.59 1/467 12345\n"))
	f.Add([]byte("MemTotal: 1000 kB\nMemAvailable: 250 kB\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := parseThermal(b); err == nil && (c < -60 || c > 200) {
			t.Fatalf("temperature %v", c)
		}
		if l, err := parseLoadAvg(b); err == nil && (l < 0 || math.IsNaN(l) || math.IsInf(l, 0)) {
			t.Fatalf("load %v", l)
		}
		if m, err := parseMemInfo(b); err == nil && (m < 0 || m > 100 || math.IsNaN(m)) {
			t.Fatalf("memory %v%%", m)
		}
	})
}

func TestDiskFreeAndWritable(t *testing.T) {
	dir := t.TempDir()
	free, pct, err := diskFree(dir)
	if err != nil || free == 0 || pct <= 0 || pct > 100 {
		t.Fatalf("diskFree = %d, %v, %v", free, pct, err)
	}
	if err := diskWritable(dir); err != nil {
		t.Fatal(err)
	}
	if _, _, err := diskFree(dir + "/missing"); err == nil {
		t.Fatal("diskFree of a missing dir: no error")
	}
}
