package readertest

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/nhikiosk/nhikiosk/reader"
)

// Device is an in-process reader.Device: one virtual reader that cards are
// put into and taken out of on demand (Insert, Remove), and that can be
// plugged and unplugged (Attach, Detach). No pcscd is involved, but Read
// runs the real reader.ReadProfile through a reader.Transport answered by
// the same Card logic the vpcd client uses. It serves `kiosk -demo` and
// headless tests of the wizard.
//
// Events are queued from the moment the Device is made (starting with
// ReaderAttached), so a test may insert a card before Run starts and still
// see every event in order. All methods are safe for concurrent use.
type Device struct {
	name   string
	events chan reader.Event
	wake   chan struct{}

	mu       sync.Mutex
	attached bool
	card     *Card
	gen      uint64 // counts insertions: a transport of an older card fails
	queue    []reader.Event
}

var _ reader.Device = (*Device)(nil)

// NewDevice is a virtual reader named name, attached and empty.
func NewDevice(name string) *Device {
	d := &Device{
		name:   name,
		events: make(chan reader.Event),
		wake:   make(chan struct{}, 1),
	}
	d.Attach()
	return d
}

// Name is the reader's name, as events report it.
func (d *Device) Name() string { return d.name }

// Attach plugs the reader in (nothing happens if it is in).
func (d *Device) Attach() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.attached {
		d.attached = true
		d.emit(reader.Event{Kind: reader.ReaderAttached, Reader: d.name})
	}
}

// Detach unplugs the reader, with any card in it.
func (d *Device) Detach() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.attached {
		d.removeLocked()
		d.attached = false
		d.emit(reader.Event{Kind: reader.ReaderDetached, Reader: d.name})
	}
}

// Insert puts card into the reader, taking out any card already there. It
// fails if the reader is detached.
func (d *Device) Insert(card *Card) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.attached {
		return fmt.Errorf("insert virtual card: %w", reader.ErrNoReader)
	}
	d.removeLocked()
	card.Reset()
	d.card = card
	d.gen++
	ev := reader.Event{Kind: reader.CardInserted, Reader: d.name, ATR: card.ATR()}
	if card.Kind == Mute {
		ev.ATR, ev.Mute = nil, true
	}
	d.emit(ev)
	return nil
}

// Remove takes the card out (nothing happens if there is none).
func (d *Device) Remove() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.removeLocked()
}

func (d *Device) removeLocked() {
	if d.card != nil {
		d.card = nil
		d.gen++
		d.emit(reader.Event{Kind: reader.CardRemoved, Reader: d.name})
	}
}

// emit queues ev for Run; d.mu is held.
func (d *Device) emit(ev reader.Event) {
	d.queue = append(d.queue, ev)
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Events implements reader.Device.
func (d *Device) Events() <-chan reader.Event { return d.events }

// Run implements reader.Device: it delivers the queued events in order
// until ctx ends, then closes Events.
func (d *Device) Run(ctx context.Context) error {
	defer close(d.events)
	for {
		d.mu.Lock()
		q := d.queue
		d.queue = nil
		d.mu.Unlock()
		for _, ev := range q {
			select {
			case d.events <- ev:
			case <-ctx.Done():
				return nil
			}
		}
		select {
		case <-d.wake:
		case <-ctx.Done():
			return nil
		}
	}
}

// Read implements reader.Device with reader.ReadProfile over the card in
// the reader.
func (d *Device) Read(ctx context.Context) (reader.Profile, error) {
	t, err := d.transport()
	if err != nil {
		return reader.Profile{}, fmt.Errorf("read virtual reader: %w", err)
	}
	return reader.ReadProfile(ctx, t)
}

// Authenticate implements reader.Device with reader.Authenticate over the
// card in the reader.
func (d *Device) Authenticate(ctx context.Context, ex reader.Exchange) error {
	t, err := d.transport()
	if err != nil {
		return fmt.Errorf("authenticate in virtual reader: %w", err)
	}
	return reader.Authenticate(ctx, t, ex)
}

// transport reaches the card in the reader now.
func (d *Device) transport() (*transport, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case !d.attached:
		return nil, reader.ErrNoReader
	case d.card == nil:
		return nil, reader.ErrNoCard
	}
	return &transport{d: d, card: d.card, gen: d.gen}, nil
}

// transport reaches one inserted card; it fails once that card is out.
type transport struct {
	d    *Device
	card *Card
	gen  uint64
}

func (t *transport) ATR() []byte {
	if t.card.Kind == Mute {
		return nil // the reader could not power it
	}
	return t.card.ATR()
}

func (t *transport) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t.d.mu.Lock()
	defer t.d.mu.Unlock()
	switch {
	case !t.d.attached:
		return nil, fmt.Errorf("transmit: %w", reader.ErrReaderUnplugged)
	case t.d.gen != t.gen:
		return nil, fmt.Errorf("transmit: %w", reader.ErrCardRemoved)
	}
	resp, err := t.card.Respond(apdu)
	if errors.Is(err, ErrPulled) {
		t.d.removeLocked()
		return nil, fmt.Errorf("transmit: %w", reader.ErrCardRemoved)
	}
	return resp, err
}
