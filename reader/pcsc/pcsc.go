//go:build cgo && !nopcsc

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ebfe/scard"

	"github.com/nhikiosk/nhikiosk/reader"
)

// settleTimeout bounds the wait, after a failed exchange, for pcscd to say
// whether the card is still there: pcscd looks about every 0.4 s.
const settleTimeout = 1200 * time.Millisecond

// Device is a reader.Device over pcscd. All its PC/SC calls, and those of
// every other Device in the process, run on one goroutine (see hub).
type Device struct {
	opts   Options
	events chan reader.Event
}

var _ reader.Device = (*Device)(nil)

// New is a Device for opts. It does not talk to pcscd yet: Run and Read
// do, and report a missing pcscd as reader.ErrNoReader.
func New(opts Options) (*Device, error) {
	return &Device{opts: opts, events: make(chan reader.Event)}, nil
}

// Events implements reader.Device.
func (d *Device) Events() <-chan reader.Event { return d.events }

// Read implements reader.Device: on the hub goroutine (see hub), it picks
// the reader (Options.Reader, or the first holding a card), connects
// shared inside a transaction (so no other PC/SC client interleaves its
// own commands), and runs reader.ReadProfile. An exchange blocks until
// pcscd answers; ctx is checked between exchanges.
func (d *Device) Read(ctx context.Context) (p reader.Profile, err error) {
	err = d.withCard(ctx, func(t *transport) (err error) {
		p, err = reader.ReadProfile(ctx, t)
		return err
	})
	return p, err
}

// Authenticate implements reader.Device: reader.Authenticate inside one
// transaction, as Read. The hub (and with it the watcher) waits for the
// whole exchange, network included, so a card pulled meanwhile is noticed
// by the next command, or reported once the exchange is over.
func (d *Device) Authenticate(ctx context.Context, ex reader.Exchange) error {
	return d.withCard(ctx, func(t *transport) error { return reader.Authenticate(ctx, t, ex) })
}

// withCard runs f on the hub goroutine with the card connected inside a
// transaction.
func (d *Device) withCard(ctx context.Context, f func(t *transport) error) (err error) {
	theHub.do(func(sc *scard.Context, herr error) {
		switch {
		case herr != nil:
			err = herr
		case ctx.Err() != nil:
			err = ctx.Err()
		default:
			err = d.connected(sc, f)
		}
	})
	return err
}

func (d *Device) connected(sc *scard.Context, f func(t *transport) error) error {
	name, state, err := d.pick(sc)
	if err != nil {
		return err
	}
	card, err := sc.Connect(name, scard.ShareShared, scard.ProtocolAny)
	if err != nil {
		return fmt.Errorf("connect to the card in %q: %w", name, mapErr(err, reader.ErrNoCard))
	}
	defer card.Disconnect(scard.LeaveCard)
	if err := card.BeginTransaction(); err != nil {
		return fmt.Errorf("begin transaction on %q: %w", name, mapErr(err, reader.ErrCardRemoved))
	}
	defer card.EndTransaction(scard.LeaveCard)
	st, err := card.Status()
	if err != nil {
		return fmt.Errorf("card status in %q: %w", name, mapErr(err, reader.ErrCardRemoved))
	}
	return f(&transport{sc: sc, card: card, reader: name, state: state, atr: st.Atr})
}

// pick chooses the reader to read and returns its state flags: the named
// one, or the first holding a card.
func (d *Device) pick(sc *scard.Context) (string, uint32, error) {
	all, err := listReaders(sc)
	if err != nil {
		return "", 0, err
	}
	names := d.opts.filter(all)
	if len(names) == 0 {
		if d.opts.Reader != "" {
			return "", 0, fmt.Errorf("find reader %q: %w", d.opts.Reader, reader.ErrNoReader)
		}
		return "", 0, fmt.Errorf("list readers: %w", reader.ErrNoReader)
	}
	states := make([]scard.ReaderState, len(names))
	for i, n := range names {
		states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
	}
	if err := sc.GetStatusChange(states, 0); err != nil && !errors.Is(err, scard.ErrTimeout) {
		return "", 0, fmt.Errorf("reader states: %w", mapErr(err, reader.ErrReaderUnplugged))
	}
	for _, s := range states {
		ev := uint32(s.EventState)
		switch {
		case !present(ev):
			continue
		case mute(ev):
			return "", 0, fmt.Errorf("card in %q: %w", s.Reader, reader.ErrCardMute)
		}
		return s.Reader, ev, nil
	}
	return "", 0, fmt.Errorf("read %q: %w", names[0], reader.ErrNoCard)
}

// listReaders lists pcscd's readers; none is an empty list, not an error.
func listReaders(sc *scard.Context) ([]string, error) {
	names, err := sc.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list readers: %w", mapErr(err, reader.ErrNoReader))
	}
	return names, nil
}

// transport is a reader.Transport over one connected card.
type transport struct {
	sc     *scard.Context
	card   *scard.Card
	reader string
	state  uint32 // the reader's state flags when the read began
	atr    []byte
}

func (t *transport) ATR() []byte { return t.atr }

// Transmit implements reader.Transport. When the exchange fails, or vpcd
// hands back an empty answer (what it does when the card leaves mid-way),
// it asks pcscd whether the card or the reader went away, so removal is
// reported as reader.ErrCardRemoved and not as a mute card.
func (t *transport) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if len(apdu) == 0 {
		return nil, errors.New("transmit: empty command APDU")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp, err := t.card.Transmit(apdu)
	if err == nil && len(resp) >= 2 {
		return resp, nil
	}
	if gone := t.settle(); gone != nil {
		return nil, fmt.Errorf("transmit to %q: %w", t.reader, gone)
	}
	if err != nil {
		return nil, fmt.Errorf("transmit to %q: %w", t.reader, mapErr(err, nil))
	}
	return resp, nil // the card is there but said too little: the protocol judges it
}

// settle waits (at most settleTimeout) for pcscd to tell whether the card
// is still in the reader. It returns ErrCardRemoved or ErrReaderUnplugged,
// or nil if the card stays.
func (t *transport) settle() error {
	states := []scard.ReaderState{{Reader: t.reader, CurrentState: scard.StateFlag(t.state)}}
	deadline := time.Now().Add(settleTimeout)
	err := t.sc.GetStatusChange(states, settleTimeout)
	// Another caller's SCardCancel (waking the hub) may cut the wait short.
	for errors.Is(err, scard.ErrCancelled) && time.Until(deadline) > 0 {
		err = t.sc.GetStatusChange(states, time.Until(deadline))
	}
	switch {
	case errors.Is(err, scard.ErrTimeout):
		return nil
	case errors.Is(err, scard.ErrUnknownReader), errors.Is(err, scard.ErrReaderUnavailable):
		return reader.ErrReaderUnplugged
	case err != nil:
		return nil
	}
	now := uint32(states[0].EventState)
	switch {
	case gone(now):
		return reader.ErrReaderUnplugged
	case !present(now), swapped(t.state, now):
		return reader.ErrCardRemoved
	}
	return nil
}

// mapErr turns a PC/SC error into the reader sentinel a person can act
// on, wrapping both; fallback (may be nil) is used for the errors that
// mean "something is wrong with this step" without saying what.
func mapErr(err, fallback error) error {
	var e scard.Error
	if !errors.As(err, &e) {
		return err
	}
	var s error
	switch e {
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrNoReadersAvailable:
		s = reader.ErrNoReader
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable:
		s = reader.ErrReaderUnplugged
	case scard.ErrNoSmartcard:
		s = reader.ErrNoCard
	case scard.ErrRemovedCard, scard.ErrResetCard:
		s = reader.ErrCardRemoved
	case scard.ErrUnresponsiveCard, scard.ErrUnpoweredCard, scard.ErrUnsupportedCard:
		s = reader.ErrCardMute
	default:
		s = fallback
	}
	if s == nil {
		return err
	}
	return fmt.Errorf("%w (%w)", s, err)
}

// Readers lists the readers pcscd has, in its order. A pcscd that is not
// running, or has no reader, is an error wrapping reader.ErrNoReader.
func Readers() (names []string, err error) {
	theHub.do(func(sc *scard.Context, herr error) {
		if herr != nil {
			err = herr
			return
		}
		var all []string
		if all, err = listReaders(sc); err == nil {
			names = Options{}.filter(all)
		}
	})
	if err == nil && len(names) == 0 {
		err = fmt.Errorf("list readers: %w", reader.ErrNoReader)
	}
	return names, err
}

// Built reports whether this build can reach pcscd.
const Built = true
