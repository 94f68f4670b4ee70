package evdev

import (
	"testing"
)

func TestParseBits(t *testing.T) {
	for _, tc := range []struct {
		in   string
		set  []int
		uset []int
	}{
		{"3", []int{AbsX, AbsY}, []int{AbsMTPosX}},
		// edt-ft5x06's abs: X, Y, MT slot, MT position, tracking id.
		{"260800000000003", []int{AbsX, AbsY, AbsMTSlot, AbsMTPosX, AbsMTPosY, AbsMTTracking}, []int{AbsPressure}},
		// A keyboard's key bitmap, several longs, most significant first.
		{"1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe", []int{1, 63, 64, 192, 194, 240}, []int{0, 195, 241}},
		{"400 0 0 0 0 0", []int{BtnTouch}, []int{BtnLeft}},
		{"", nil, []int{0}},
	} {
		b, err := parseBits(tc.in)
		if err != nil {
			t.Errorf("parseBits(%q): %v", tc.in, err)
			continue
		}
		for _, n := range tc.set {
			if !b.has(n) {
				t.Errorf("parseBits(%q) lacks bit %#x", tc.in, n)
			}
		}
		for _, n := range tc.uset {
			if b.has(n) {
				t.Errorf("parseBits(%q) has bit %#x", tc.in, n)
			}
		}
	}
	if _, err := parseBits("12 zz"); err == nil {
		t.Error("parseBits accepted a word that is not hexadecimal")
	}
}

func FuzzParseBits(f *testing.F) {
	f.Add("260800000000003")
	f.Add("1000000000007 ff9f207ac14057ff febeffdfffefffff fffffffffffffffe")
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseBits(s)
		if err != nil {
			return
		}
		for n := range 1024 {
			b.has(n)
		}
	})
}
