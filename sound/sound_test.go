package sound

import (
	"math"
	"testing"
)

func TestVolumeGain(t *testing.T) {
	tests := []struct {
		v    Volume
		want float64
	}{{100, 1}, {0, 0}, {-5, 0}, {150, 1}, {80, math.Pow(10, -10.0/20)}}
	for _, tt := range tests {
		if got := tt.v.Gain(); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("Volume(%d).Gain() = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestConvert(t *testing.T) {
	mono := []int16{0, 100, 200, 300}
	got := Convert(nil, mono, 16000, Format{Rate: 32000, Channels: 2}, 1)
	want := []int16{0, 0, 50, 50, 100, 100, 150, 150, 200, 200, 250, 250, 300, 300, 300, 300}
	if len(got) != len(want) {
		t.Fatalf("Convert = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Convert = %v, want %v", got, want)
		}
	}
	loud := Convert(nil, []int16{30000, -30000}, 8000, Format{Rate: 8000, Channels: 1}, 2)
	if loud[0] != math.MaxInt16 || loud[1] != math.MinInt16 {
		t.Errorf("Convert with gain 2 = %v, want clipped to the int16 range", loud)
	}
}
