package upstream_test

import (
	"context"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// BenchmarkRegisterRoundTrip is one registration from the kiosk's client
// to an in-process nhisim on loopback and back (validation, JSON, HTTP,
// bcrypt, a bbolt transaction with fsync), at nhisim's real bcrypt cost
// and at the cheapest one tests use.
func BenchmarkRegisterRoundTrip(b *testing.B) {
	for _, bc := range []struct {
		name string
		cost int
	}{{"bcrypt=default", bcrypt.DefaultCost}, {"bcrypt=min", bcrypt.MinCost}} {
		b.Run(bc.name, func(b *testing.B) {
			sim := upstreamtest.Start(b, server.Options{PasswordCost: bc.cost}, nil)
			c := upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1})
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := c.Register(ctx, upstreamtest.Person(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOutboxEnqueue is one durable enqueue: age encryption, temp
// file, fsync, rename, directory fsync.
func BenchmarkOutboxEnqueue(b *testing.B) {
	sim := upstreamtest.Start(b, server.Options{}, nil)
	ob, err := upstream.OpenOutbox(b.TempDir(), sim.Recipient, nil)
	if err != nil {
		b.Fatal(err)
	}
	body := mustJSON(b, upstreamtest.Person(1))
	for b.Loop() {
		if err := ob.Enqueue(upstream.NewIdempotencyKey(), body); err != nil {
			b.Fatal(err)
		}
	}
}
