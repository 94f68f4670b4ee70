package upstreamtest

import (
	"context"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// Genuine is an upstream.CardProver for tests that are not about the card
// check (the upstreams Start runs authenticate cards): it authenticates a
// genuine virtual card of the person with that card and ID number
// (readertest, keyed by the test issuer) through the kiosk's own relay
// (reader.Authenticate) and the real exchange. Numbers that break the
// rules get no proof, so the call goes without one and the upstream
// refuses it for its fields first.
func Genuine(ctx context.Context, c *upstream.Client, purpose, cardNumber, idNumber string) (string, error) {
	if len(upstream.ValidateIdentify(cardNumber, idNumber)) > 0 {
		return "", nil
	}
	card, err := readertest.NewCard(readertest.Person{CardNumber: cardNumber, IDNumber: idNumber, Name: "測試",
		BirthDate: time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), Sex: reader.Male,
		IssueDate: time.Date(2010, 1, 4, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		return "", err
	}
	dev := readertest.NewDevice("upstreamtest")
	if err := dev.Insert(card); err != nil {
		return "", err
	}
	ex := c.NewCardAuth(purpose)
	if err := dev.Authenticate(ctx, ex); err != nil {
		return "", err
	}
	return ex.Proof()
}

// Proof authenticates a genuine virtual card of cardNumber and idNumber at
// s for purpose and returns the proof, as a kiosk's card step would, for
// a call the test makes later (a registration it queues, say).
func (s *Sim) Proof(t testing.TB, purpose, cardNumber, idNumber string) string {
	t.Helper()
	c := upstream.New(upstream.Options{BaseURL: s.URL, Attempts: 1})
	proof, err := Genuine(context.Background(), c, purpose, cardNumber, idNumber)
	if err != nil || proof == "" {
		t.Fatalf("card authentication at the test upstream: %q, %v", proof, err)
	}
	return proof
}
