package devices

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/internal/cardslot"
	"github.com/nhikiosk/nhikiosk/upstream/server"
)

// BenchmarkCardCheck times the time the card check adds to each flow
// that needs it: the whole CheckCard, card present (connect and
// transaction, the profile read again, the exchange's two requests to an
// in-process nhisim on loopback, the three commands of the simulated
// module, its decision). It reports the median besides the mean:
//
//	go test -run XXX -bench CardCheck -benchtime 50x ./appliance/devices/
func BenchmarkCardCheck(b *testing.B) {
	for _, backend := range cardslot.All {
		b.Run(backend, func(b *testing.B) {
			r := newCheckRig(b, backend, server.Options{})
			_, p := person(300)
			r.insert(b, virtualCard(b, p))
			ctx := context.Background()
			for _, purpose := range []string{appliance.PurposeRegistration, appliance.PurposeVerification,
				appliance.PurposePasswordReset, appliance.PurposeCancellation, appliance.PurposeLogin} {
				b.Run(purpose, func(b *testing.B) {
					var took []time.Duration
					for b.Loop() {
						start := time.Now()
						if _, err := r.check.CheckCard(ctx, purpose, identity(p)); err != nil {
							b.Fatal(err)
						}
						took = append(took, time.Since(start))
					}
					slices.Sort(took)
					b.ReportMetric(float64(took[len(took)/2])/float64(time.Millisecond), "ms-median")
				})
			}
		})
	}
}
