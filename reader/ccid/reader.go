package ccid

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/ccid/t1"
)

// Reader is slot 0 of one CCID reader, and the card in it. It implements
// reader.Transport once the card is powered. It is not safe for concurrent
// use, except CardPresent and WaitCardChange, which may run beside the
// other methods (the monitor watches the slot while the card is read).
type Reader struct {
	dev  USB
	desc Descriptor
	seq  byte
	atr  ATR
	t1   *t1.Conn // nil unless the reader exchanges TPDUs
	on   atomic.Bool
	mu   sync.Mutex // one command and its answer at a time

	// ReadTimeout bounds the wait for one bulk-in message when ctx has no
	// earlier deadline; a time extension from the reader restarts it.
	ReadTimeout time.Duration
	// PollInterval is how often WaitCardChange asks readers without an
	// interrupt endpoint for their slot status.
	PollInterval time.Duration
	// SlotCheck is how long WaitCardChange waits for a slot change
	// notification before asking the slot status itself, in case one was
	// lost (seen once under QEMU, issue 18); 0 never asks.
	SlotCheck time.Duration
}

var _ reader.Transport = (*Reader)(nil)

// NewReader drives the claimed interface dev described by desc.
func NewReader(dev USB, desc Descriptor) *Reader {
	return &Reader{dev: dev, desc: desc, ReadTimeout: 10 * time.Second, PollInterval: 500 * time.Millisecond,
		SlotCheck: 5 * time.Second}
}

// Descriptor returns the reader's capabilities.
func (r *Reader) Descriptor() Descriptor { return r.desc }

// Close powers the card off (best effort) and releases the device.
func (r *Reader) Close() error {
	if r.on.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = r.PowerOff(ctx)
		cancel()
	}
	return r.dev.Close()
}

// ATR returns the card's answer to reset from the last PowerOn.
func (r *Reader) ATR() []byte { return append([]byte(nil), r.atr.Raw...) }

// PowerOn activates the card, reads its ATR and sets the reader up for its
// protocol: SetParameters for T=1 and the IFSD exchange, where the reader
// does not do them itself. No card is reader.ErrNoCard; a card that does
// not answer is reader.ErrCardMute.
func (r *Reader) PowerOn(ctx context.Context) error {
	r.on.Store(false)
	r.t1 = nil
	r.atr = ATR{} // no stale ATR from the previous card if this one fails
	m, err := r.command(ctx, PCtoRDRIccPowerOn, [3]byte{}, nil)
	if err != nil {
		return fmt.Errorf("ccid: power on: %w", err)
	}
	atr, err := ParseATR(m.Data)
	if err != nil {
		return fmt.Errorf("ccid: power on: %w: %w", reader.ErrCardMute, err)
	}
	r.atr = atr
	if err := r.setupProtocol(ctx); err != nil {
		return fmt.Errorf("ccid: power on: %w", err)
	}
	r.on.Store(true)
	return nil
}

func (r *Reader) setupProtocol(ctx context.Context) error {
	if r.desc.Level() != LevelTPDU {
		return nil // the reader speaks APDUs and runs the protocol itself
	}
	// dwProtocols is not checked for T=1: some readers (QEMU's usb-ccid
	// before 8.x) announce T=0 only yet pass T=1 blocks through; a reader
	// that really cannot makes the card look mute.
	if !r.atr.T1 {
		return fmt.Errorf("card offers no T=1 for this TPDU reader: %w", reader.ErrNotNHICard)
	}
	if r.atr.CRC {
		return fmt.Errorf("card wants a CRC epilogue: %w", reader.ErrNotNHICard)
	}
	if !r.desc.AutoParams() {
		if _, err := r.command(ctx, PCtoRDRSetParameters, [3]byte{1}, r.atr.t1Params()); err != nil {
			return fmt.Errorf("set T=1 parameters: %w", err)
		}
	}
	r.t1 = t1.New(link{r}, r.atr.IFSC)
	if r.desc.AutoIFSD() {
		return nil
	}
	ifsd := t1.MaxInf
	if r.desc.MaxIFSD > 0 && r.desc.MaxIFSD < ifsd {
		ifsd = r.desc.MaxIFSD
	}
	if err := r.t1.NegotiateIFSD(ctx, ifsd); err != nil {
		return mapT1(err)
	}
	return nil
}

// PowerOff deactivates the card.
func (r *Reader) PowerOff(ctx context.Context) error {
	r.on.Store(false)
	r.t1 = nil
	if _, err := r.command(ctx, PCtoRDRIccPowerOff, [3]byte{}, nil); err != nil && !errors.Is(err, reader.ErrNoCard) {
		return fmt.Errorf("ccid: power off: %w", err)
	}
	return nil
}

// CardPresent asks the reader whether a card is in the slot.
func (r *Reader) CardPresent(ctx context.Context) (bool, error) {
	m, err := r.command(ctx, PCtoRDRGetSlotStatus, [3]byte{}, nil)
	if errors.Is(err, reader.ErrNoCard) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ccid: slot status: %w", err)
	}
	return m.ICCStatus() != ICCAbsent, nil
}

// Transmit sends one command APDU to the powered card and returns the
// response APDU (reader.Transport). A card pulled out is
// reader.ErrCardRemoved, a reader unplugged reader.ErrReaderUnplugged, a
// card that stops answering reader.ErrCardMute.
func (r *Reader) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if !r.on.Load() {
		return nil, fmt.Errorf("ccid: transmit: card not powered: %w", reader.ErrNoCard)
	}
	if r.t1 != nil {
		resp, err := r.t1.Transceive(ctx, apdu)
		if err != nil {
			return nil, fmt.Errorf("ccid: transmit: %w", mapT1(err))
		}
		return resp, nil
	}
	resp, err := r.xfrAPDU(ctx, apdu)
	if err != nil {
		return nil, fmt.Errorf("ccid: transmit: %w", err)
	}
	return resp, nil
}

// mapT1 turns a failed T=1 recovery into the reader error a person can act
// on; errors from the link (card removed, reader gone) pass unchanged.
func mapT1(err error) error {
	if errors.Is(err, reader.ErrCardRemoved) || errors.Is(err, reader.ErrReaderUnplugged) || errors.Is(err, reader.ErrNoCard) {
		return err
	}
	if errors.Is(err, t1.ErrProtocol) || errors.Is(err, t1.ErrAborted) {
		return fmt.Errorf("%w: %w", reader.ErrCardMute, err)
	}
	return err
}

// link carries T=1 blocks in PC_to_RDR_XfrBlock messages (TPDU level).
type link struct{ r *Reader }

func (l link) Exchange(ctx context.Context, block []byte, wtx byte) ([]byte, error) {
	m, err := l.r.command(ctx, PCtoRDRXfrBlock, [3]byte{wtx}, block)
	if err == nil {
		return m.Data, nil
	}
	var se *SlotError
	if errors.As(err, &se) && !errors.Is(err, reader.ErrCardRemoved) && !errors.Is(err, reader.ErrNoCard) {
		switch se.Code {
		case ErrCodeICCMute:
			return nil, fmt.Errorf("%w (%w)", t1.ErrTimeout, err)
		case ErrCodeXfrParity, ErrCodeXfrOverrun:
			return nil, fmt.Errorf("%w (%w)", t1.ErrEDC, err)
		}
	}
	return nil, err
}
