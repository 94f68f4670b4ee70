package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// relayCard runs a card authentication at url with card, through the
// kiosk's relay.
func relayCard(t *testing.T, c *upstream.Client, card *readertest.Card) (string, error) {
	t.Helper()
	d := readertest.NewDevice("virtual")
	if err := d.Insert(card); err != nil {
		t.Fatal(err)
	}
	ex := c.NewCardAuth(upstream.PurposeRegistration)
	if err := d.Authenticate(context.Background(), ex); err != nil {
		return "", err
	}
	return ex.Proof()
}

// TestCardAuthFlag: nhisim authenticates cards with its simulated module
// by default (a genuine virtual card passes, one with the wrong key does
// not, a registration without a proof is refused), and not at all with
// -card-auth=off.
func TestCardAuthFlag(t *testing.T) {
	person := upstreamPerson(30)
	holder := readertest.Person{CardNumber: person.CardNumber, IDNumber: person.IDNumber, Name: "測試",
		BirthDate: time.Date(1980, 1, 2, 0, 0, 0, 0, time.UTC), Sex: reader.Male, IssueDate: time.Date(2010, 1, 4, 0, 0, 0, 0, time.UTC)}
	card := func(wrongKey bool) *readertest.Card {
		c, err := readertest.NewCard(holder)
		if err != nil {
			t.Fatal(err)
		}
		if wrongKey {
			c.Key = readertest.WrongKey(holder)
		}
		return c
	}
	ctx := context.Background()
	t.Run("sim by default", func(t *testing.T) {
		dir := t.TempDir()
		p := start(t, "-dev", "-listen", "127.0.0.1:0", "-db", dir+"/d.db")
		c := upstream.New(upstream.Options{BaseURL: p.url, Attempts: 1})
		if _, err := c.Register(ctx, person); upstream.Code(err) != upstream.ErrCodeCardAuthRequired {
			t.Errorf("Register without a proof = %v, want %s", err, upstream.ErrCodeCardAuthRequired)
		}
		if _, err := relayCard(t, c, card(true)); upstream.Code(err) != upstream.ErrCodeCardNotGenuine {
			t.Errorf("wrong key = %v, want %s", err, upstream.ErrCodeCardNotGenuine)
		}
		proof, err := relayCard(t, c, card(false))
		if err != nil || proof == "" {
			t.Fatalf("genuine card = %q, %v", proof, err)
		}
		r := person
		r.CardAuth = proof
		if _, err := c.Register(ctx, r); err != nil {
			t.Errorf("Register with the proof: %v", err)
		}
		if !strings.Contains(p.log(), "card_auth=sim") || !strings.Contains(p.log(), "result=not_genuine") {
			t.Errorf("nhisim's log lacks the mode or the decisions:\n%s", p.log())
		}
		if strings.Contains(p.log(), person.CardNumber) || strings.Contains(p.log(), person.IDNumber) {
			t.Errorf("nhisim's log holds card data")
		}
	})
	t.Run("off", func(t *testing.T) {
		dir := t.TempDir()
		p := start(t, "-dev", "-listen", "127.0.0.1:0", "-db", dir+"/d.db", "-card-auth", "off")
		c := upstream.New(upstream.Options{BaseURL: p.url, Attempts: 1})
		if proof, err := relayCard(t, c, card(true)); err != nil || proof != "" {
			t.Errorf("card authentication when off = %q, %v; want not required", proof, err)
		}
		if _, err := c.Register(ctx, person); err != nil {
			t.Errorf("Register without a proof when off: %v", err)
		}
	})
}
