package soundtest

import (
	"encoding/binary"
	"errors"
	"math"
)

// ParseWAV reads a 16-bit PCM WAV (QEMU's wav audiodev writes them) and
// returns its first channel and its rate.
func ParseWAV(b []byte) ([]int16, int, error) {
	if len(b) < 44 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, 0, errors.New("soundtest: not a WAV file")
	}
	ch := int(binary.LittleEndian.Uint16(b[22:]))
	rate := int(binary.LittleEndian.Uint32(b[24:]))
	if bits := binary.LittleEndian.Uint16(b[34:]); bits != 16 || ch < 1 {
		return nil, 0, errors.New("soundtest: not 16-bit PCM")
	}
	data := b[44:]
	out := make([]int16, 0, len(data)/2/ch)
	for i := 0; i+2*ch <= len(data); i += 2 * ch {
		out = append(out, int16(binary.LittleEndian.Uint16(data[i:])))
	}
	return out, rate, nil
}

// Envelope is the RMS loudness (0–1) of every 10 ms of s.
func Envelope(s []int16, rate int) []float64 {
	n := max(1, rate/100)
	var out []float64
	for i := 0; i+n <= len(s); i += n {
		sum := 0.0
		for _, v := range s[i : i+n] {
			f := float64(v) / 32768
			sum += f * f
		}
		out = append(out, math.Sqrt(sum/float64(n)))
	}
	return out
}

// BestMatch slides b over a and returns the offset (in envelope frames,
// 10 ms) where they correlate best, and the Pearson correlation there. A b
// longer than a (a recording cut short) is compared by its beginning.
func BestMatch(a, b []float64) (int, float64) {
	b = b[:min(len(a), len(b))]
	best, at := -1.0, 0
	for off := 0; off+len(b) <= len(a); off++ {
		if r := pearson(a[off:off+len(b)], b); r > best {
			best, at = r, off
		}
	}
	return at, best
}

func pearson(x, y []float64) float64 {
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	var sxy, sxx, syy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxy += dx * dy
		sxx += dx * dx
		syy += dy * dy
	}
	if sxx == 0 || syy == 0 {
		return 0
	}
	return sxy / math.Sqrt(sxx*syy)
}

// Loud counts the envelope's frames above level.
func Loud(env []float64, level float64) int {
	n := 0
	for _, e := range env {
		if e > level {
			n++
		}
	}
	return n
}

// BestStretch is BestMatch over b stretched in time by 80 % to 120 % (a
// recording under emulation runs at its own pace), both smoothed over
// 50 ms; it returns the offset, the stretch and the correlation there.
func BestStretch(a, b []float64) (int, float64, float64) {
	a, b = smooth(a, 5), smooth(b, 5)
	bestR, bestAt, bestK := -1.0, 0, 1.0
	for k := 0.80; k <= 1.201; k += 0.01 {
		n := int(float64(len(b)) * k)
		if n < 2 {
			continue
		}
		sb := make([]float64, n)
		for i := range sb {
			sb[i] = b[min(len(b)-1, int(float64(i)/k))]
		}
		if at, r := BestMatch(a, sb); r > bestR {
			bestR, bestAt, bestK = r, at, k
		}
	}
	return bestAt, bestK, bestR
}

func smooth(x []float64, w int) []float64 {
	out := make([]float64, len(x))
	for i := range x {
		sum, n := 0.0, 0
		for j := max(0, i-w/2); j <= min(len(x)-1, i+w/2); j++ {
			sum += x[j]
			n++
		}
		out[i] = sum / float64(n)
	}
	return out
}
