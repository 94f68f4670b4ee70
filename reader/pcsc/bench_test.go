//go:build cgo && !nopcsc

package pcsc_test

import (
	"slices"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// BenchmarkReadPresentCard measures "card present → decoded Profile"
// through pcscd and vpcd: pick the reader, connect, SELECT, READ PROFILE,
// decode, validate, disconnect. pcscd's presence polling (about 0.4 s) is
// not in it. It reports the median as ms/median besides the mean.
func BenchmarkReadPresentCard(b *testing.B) {
	r := newRig(b)
	r.insert(card(b, readertest.TestOne))
	var times []time.Duration
	for b.Loop() {
		start := time.Now()
		p, err := r.dev.Read(r.ctx)
		times = append(times, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		p.Wipe()
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2])/float64(time.Millisecond), "ms/median")
}
