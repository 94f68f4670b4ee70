// Package devices adapts the kiosk's real parts to the interfaces the
// wizard (package appliance) defines: a reader.Device becomes a card
// reader and a stream of card events, an upstream.Client becomes the
// wizard's Upstream with its errors turned into kinds and fields the
// screens act on. cmd/kiosk and the end-to-end tests build the wizard
// through it.
//
// It holds no personal data beyond one call: profiles are copied into the
// session's byte slices and the reader's copy is wiped at once; requests
// are built just before they are sent.
package devices

import (
	"context"
	"errors"
	"fmt"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/reader"
)

// Card reads the NHI card through a reader.Device.
type Card struct{ Device reader.Device }

// ReadProfile reads the card and copies what the wizard needs into byte
// slices the session owns (and zeroes when it ends).
func (c Card) ReadProfile(ctx context.Context) (appliance.CardProfile, error) {
	p, err := c.Device.Read(ctx)
	if err != nil {
		return appliance.CardProfile{}, fmt.Errorf("read card: %w", err)
	}
	defer p.Wipe()
	return appliance.CardProfile{
		CardNumber: []byte(p.CardNumber),
		IDNumber:   []byte(p.IDNumber),
		Name:       []byte(p.Name),
		BirthDate:  []byte(p.BirthDate.Format("2006-01-02")),
	}, nil
}

// CardErrorKey is reader.CatalogKey: the wizard's messages use the
// reader's keys.
func CardErrorKey(err error) string { return reader.CatalogKey(err) }

// WatchCards runs d's watch and delivers card comings and goings as the
// wizard's events until ctx ends: a card in is CardInserted; a card out,
// or the reader unplugged, is CardRemoved. It returns what d.Run returns,
// and closes out.
func WatchCards(ctx context.Context, d reader.Device, out chan<- appliance.Event) error {
	return WatchCardsObserved(ctx, d, out, nil)
}

// WatchCardsObserved is WatchCards that also hands every reader event to
// observe (if not nil) before translating it, on the watching goroutine:
// the fleet agent learns of readers attached and detached from it.
// observe must return quickly and must not keep ev.ATR.
func WatchCardsObserved(ctx context.Context, d reader.Device, out chan<- appliance.Event, observe func(ev reader.Event)) error {
	defer close(out)
	errc := make(chan error, 1)
	go func() { errc <- d.Run(ctx) }()
	for {
		select {
		case ev, ok := <-d.Events():
			if !ok {
				return <-errc
			}
			if observe != nil {
				observe(ev)
			}
			var a appliance.Event
			switch ev.Kind {
			case reader.CardInserted:
				a = appliance.CardInserted{}
			case reader.CardRemoved, reader.ReaderDetached:
				a = appliance.CardRemoved{}
			default:
				continue
			}
			select {
			case out <- a:
			case <-ctx.Done():
			}
		case err := <-errc:
			if err != nil && !errors.Is(err, context.Canceled) {
				return fmt.Errorf("watch card reader: %w", err)
			}
			return nil
		}
	}
}
