package reader_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

func nhiCard(t testing.TB, p readertest.Person) *readertest.Card {
	t.Helper()
	c, err := readertest.NewCard(p)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ReadProfile through the in-process virtual device: the same protocol
// code and card logic the pcscd tests run, without pcscd.
func TestReadProfile(t *testing.T) {
	for name, card := range map[string]func() *readertest.Card{
		"T=1 card": func() *readertest.Card { return nhiCard(t, readertest.TestOne) },
		"61xx GET RESPONSE": func() *readertest.Card {
			c := nhiCard(t, readertest.TestOne)
			c.GetResponse = true
			return c
		},
		"6Cxx wrong Le": func() *readertest.Card {
			c := nhiCard(t, readertest.TestOne)
			c.WantLe = true
			return c
		},
	} {
		t.Run(name, func(t *testing.T) {
			d := readertest.NewDevice("virtual")
			if err := d.Insert(card()); err != nil {
				t.Fatal(err)
			}
			p, err := d.Read(context.Background())
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got, want := describe(p), `{"000012345678" "測試一" "A123456789" 1990-01-02 M 2015-06-30}`; got != want {
				t.Errorf("Read = %s, want %s", got, want)
			}
		})
	}
}

func TestReadProfileErrors(t *testing.T) {
	garbled := nhiCard(t, readertest.TestOne)
	copy(garbled.Profile[32:], "A123456788")
	pullSelect := nhiCard(t, readertest.TestOne)
	pullSelect.PullOn = 0xA4
	pullRead := nhiCard(t, readertest.TestOne)
	pullRead.PullOn = 0xCA
	short := nhiCard(t, readertest.TestOne)
	short.Profile = short.Profile[:50]
	for name, tc := range map[string]struct {
		setup func(d *readertest.Device)
		want  error
		key   string
	}{
		"no reader":             {setup: func(d *readertest.Device) { d.Detach() }, want: reader.ErrNoReader, key: "card.error.no_reader"},
		"no card":               {setup: func(d *readertest.Device) {}, want: reader.ErrNoCard, key: "card.error.no_card"},
		"mute":                  {setup: insert(&readertest.Card{Kind: readertest.Mute}), want: reader.ErrCardMute, key: "card.error.mute"},
		"foreign":               {setup: insert(&readertest.Card{Kind: readertest.Foreign}), want: reader.ErrNotNHICard, key: "card.error.not_nhi"},
		"removed during SELECT": {setup: insert(pullSelect), want: reader.ErrCardRemoved, key: "card.error.removed"},
		"removed during READ":   {setup: insert(pullRead), want: reader.ErrCardRemoved, key: "card.error.removed"},
		"bad check digit":       {setup: insert(garbled), want: reader.ErrGarbledProfile, key: "card.error.garbled"},
		"short profile":         {setup: insert(short), want: reader.ErrGarbledProfile, key: "card.error.garbled"},
	} {
		t.Run(name, func(t *testing.T) {
			d := readertest.NewDevice("virtual")
			tc.setup(d)
			p, err := d.Read(context.Background())
			if !errors.Is(err, tc.want) {
				t.Fatalf("Read error = %v, want %v", err, tc.want)
			}
			if !p.IsZero() {
				t.Errorf("Read returned %s with its error", describe(p))
			}
			if got := reader.CatalogKey(err); got != tc.key {
				t.Errorf("CatalogKey(%v) = %q, want %q", err, got, tc.key)
			}
		})
	}
}

func insert(c *readertest.Card) func(d *readertest.Device) {
	return func(d *readertest.Device) {
		if err := d.Insert(c); err != nil {
			panic(err)
		}
	}
}

func TestCatalogKeyUnknown(t *testing.T) {
	if got, want := reader.CatalogKey(errors.New("other")), "card.error.unknown"; got != want {
		t.Errorf("CatalogKey(other) = %q, want %q", got, want)
	}
}
