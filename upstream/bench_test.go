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
			sim := upstreamtest.Start(b, server.Options{PasswordCost: bc.cost, CardAuth: server.CardAuthOff}, nil)
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

// BenchmarkBindingRoundTrip is one mobile device binding end to end at
// nhisim's real bcrypt cost: start (kiosk), bind (phone), status
// (kiosk) — three requests, two bbolt commits. Login is outside the loop.
func BenchmarkBindingRoundTrip(b *testing.B) {
	box := upstreamtest.NewMailbox()
	sim := upstreamtest.Start(b, server.Options{Mailer: box, PasswordCost: bcrypt.DefaultCost, CardAuth: server.CardAuthOff}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1})
	ctx := context.Background()
	p := upstreamtest.Person(1)
	if _, err := c.Register(ctx, p); err != nil {
		b.Fatal(err)
	}
	if err := c.Verify(ctx, p.CardNumber, p.IDNumber, box.WaitCode(b, p.Contact.Email, 1)); err != nil {
		b.Fatal(err)
	}
	s, err := c.Login(ctx, p.CardNumber, p.IDNumber, p.Password)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		bd, err := s.StartBinding(ctx, upstream.ViaScreen)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Bind(ctx, bd.Code, "Bench phone"); err != nil {
			b.Fatal(err)
		}
		if st, err := s.BindingStatus(ctx, bd.BindingID, 0); err != nil || st.Status != upstream.StatusLinked {
			b.Fatalf("status %+v, %v", st, err)
		}
	}
}

// BenchmarkLogin is one login at nhisim's real bcrypt cost (bcrypt
// compare inside the bbolt transaction, a session stored).
func BenchmarkLogin(b *testing.B) {
	box := upstreamtest.NewMailbox()
	sim := upstreamtest.Start(b, server.Options{Mailer: box, PasswordCost: bcrypt.DefaultCost, CardAuth: server.CardAuthOff}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1})
	ctx := context.Background()
	p := upstreamtest.Person(1)
	if _, err := c.Register(ctx, p); err != nil {
		b.Fatal(err)
	}
	if err := c.Verify(ctx, p.CardNumber, p.IDNumber, box.WaitCode(b, p.Contact.Email, 1)); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Login(ctx, p.CardNumber, p.IDNumber, p.Password); err != nil {
			b.Fatal(err)
		}
	}
}
