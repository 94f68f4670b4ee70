// Package ccidtest fakes a CCID smart card reader with one slot, for unit
// tests of reader/ccid: it implements ccid.USB, answers CCID messages
// like a reader at TPDU or APDU level, runs the card's side of T=1, and
// injects the faults a real line has (broken blocks, parity errors, a mute
// card, a card pulled out, a reader unplugged).
//
// It is a fake for tests, never a reader for the kiosk.
package ccidtest

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/ccid"
)

// NHIATR is the ATR of a real NHI card (T=1, IFSC 254).
var NHIATR = []byte{0x3B, 0xFA, 0x18, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x50, 0x56, 0x4A, 0x43, 0x4F, 0x50, 0x34, 0x53, 0x49, 0x44, 0x93}

// Card answers command APDUs with response APDUs.
type Card func(apdu []byte) []byte

// Faults are injected into the next exchanges; each counter is used up one
// XfrBlock at a time.
type Faults struct {
	CorruptBlocks int  // card blocks sent with a broken LRC
	Parity        int  // XfrBlocks failed with XFR_PARITY_ERROR
	Mute          int  // XfrBlocks failed with ICC_MUTE
	TimeExt       int  // time-extension messages before each answer
	WTX           byte // the card asks for this BWT multiplier before answering
	RemoveAfter   int  // the card is pulled out after this many XfrBlocks (0: never)
	Stale         bool // one answer with a wrong sequence number comes first
	Silent        bool // the card gives no ATR at power-on (ICC_MUTE): dead, or in the wrong way
	LoseNotify    bool // insertions and removals send no NotifySlotChange
	// PullOn pulls the card out when a command with this INS arrives,
	// before it answers; MuteOn makes the card stop answering from the
	// command with this INS on (every XfrBlock ICC_MUTE) until it is
	// powered again. 0: never.
	PullOn, MuteOn byte
}

// Reader is a fake CCID reader. Configure it before use; Insert, Remove
// and Unplug may be called at any time.
type Reader struct {
	Level  uint32 // ccid.LevelTPDU or ccid.LevelShortAPDU
	ATR    []byte // the card's ATR; NHIATR when nil
	Faults Faults

	mu      sync.Mutex
	card    Card
	powered bool
	gone    bool
	out     chan []byte // bulk-in messages
	intr    chan []byte // interrupt messages
	gonec   chan struct{}
	xfrs    int
	muted   bool
	log     []string
	t       cardT1
}

// New returns a reader at level with no card.
func New(level uint32) *Reader {
	return &Reader{Level: level, out: make(chan []byte, 64), intr: make(chan []byte, 16), gonec: make(chan struct{})}
}

// Descriptor returns the capabilities the fake reader announces.
func (r *Reader) Descriptor() ccid.Descriptor {
	return ccid.Descriptor{BulkIn: 0x81, BulkOut: 0x02, Interrupt: 0x83, Protocols: 3,
		MaxIFSD: 254, Features: r.Level, MaxMessageLen: 271}
}

// Insert puts card in the slot and notifies the interrupt pipe.
func (r *Reader) Insert(card Card) {
	r.mu.Lock()
	r.card, r.powered = card, false
	lose := r.Faults.LoseNotify
	r.mu.Unlock()
	if !lose {
		r.intr <- []byte{ccid.RDRtoPCNotifySlotChg, 0x03}
	}
}

// SetFaults replaces the faults to inject, safely while the reader is in
// use.
func (r *Reader) SetFaults(f Faults) {
	r.mu.Lock()
	r.Faults = f
	r.mu.Unlock()
}

// Remove pulls the card out and notifies the interrupt pipe.
func (r *Reader) Remove() {
	r.mu.Lock()
	r.card, r.powered = nil, false
	lose := r.Faults.LoseNotify
	r.mu.Unlock()
	if !lose {
		r.intr <- []byte{ccid.RDRtoPCNotifySlotChg, 0x02}
	}
}

// Unplug makes every further call fail as if the reader were pulled out.
func (r *Reader) Unplug() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.gone {
		r.gone = true
		close(r.gonec)
	}
}

// Log returns one line per message the reader received, for test failures
// and assertions on what went over the wire.
func (r *Reader) Log() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.log...)
}

var errGone = fmt.Errorf("ccidtest: %w", reader.ErrReaderUnplugged)

// Write takes one PC_to_RDR message and queues the answer.
func (r *Reader) Write(_ context.Context, p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gone {
		return errGone
	}
	if len(p) < 10 || int(binary.LittleEndian.Uint32(p[1:5])) != len(p)-10 {
		return fmt.Errorf("ccidtest: malformed message % X", p)
	}
	m := ccid.Message{Type: p[0], Slot: p[5], Seq: p[6], Data: p[10:]}
	copy(m.Param[:], p[7:10])
	r.log = append(r.log, fmt.Sprintf("%#02x % X", m.Type, m.Data))
	if r.Faults.Stale {
		r.Faults.Stale = false
		r.out <- answer(ccid.RDRtoPCSlotStatus, m.Seq-1, 0, 0, nil)
	}
	for range r.Faults.TimeExt {
		r.out <- answer(respType(m.Type), m.Seq, 0x80|r.iccStatus(), 1, nil)
	}
	r.out <- r.handle(m)
	return nil
}

// Read returns the next queued answer.
func (r *Reader) Read(ctx context.Context, p []byte) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-r.gonec:
		return 0, errGone
	case b := <-r.out:
		if r.isGone() {
			return 0, errGone
		}
		return copy(p, b), nil
	}
}

// Interrupt returns the next slot change.
func (r *Reader) Interrupt(ctx context.Context, p []byte) (int, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-r.gonec:
		return 0, errGone
	case b := <-r.intr:
		return copy(p, b), nil
	}
}

// Close does nothing.
func (r *Reader) Close() error { return nil }

func (r *Reader) isGone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gone
}

func (r *Reader) iccStatus() byte {
	switch {
	case r.card == nil:
		return ccid.ICCAbsent
	case !r.powered:
		return ccid.ICCInactive
	}
	return ccid.ICCActive
}

func answer(typ, seq, status, errCode byte, data []byte) []byte {
	return ccid.Message{Type: typ, Seq: seq, Param: [3]byte{status, errCode, 0}, Data: data}.Encode()
}

func respType(cmd byte) byte {
	switch cmd {
	case ccid.PCtoRDRIccPowerOn, ccid.PCtoRDRXfrBlock:
		return ccid.RDRtoPCDataBlock
	case ccid.PCtoRDRSetParameters, ccid.PCtoRDRGetParameters:
		return ccid.RDRtoPCParameters
	}
	return ccid.RDRtoPCSlotStatus
}

func (r *Reader) handle(m ccid.Message) []byte {
	typ := respType(m.Type)
	fail := func(code byte) []byte { return answer(typ, m.Seq, 0x40|r.iccStatus(), code, nil) }
	switch m.Type {
	case ccid.PCtoRDRIccPowerOn:
		if r.card == nil || r.Faults.Silent {
			return fail(ccid.ErrCodeICCMute)
		}
		r.powered, r.muted = true, false
		r.t = newCardT1()
		atr := r.ATR
		if atr == nil {
			atr = NHIATR
		}
		return answer(typ, m.Seq, ccid.ICCActive, 0, atr)
	case ccid.PCtoRDRIccPowerOff:
		if r.card != nil {
			r.powered = false
		}
		return answer(typ, m.Seq, r.iccStatus(), 0, nil)
	case ccid.PCtoRDRGetSlotStatus:
		return answer(typ, m.Seq, r.iccStatus(), 0, nil)
	case ccid.PCtoRDRSetParameters:
		if r.card == nil || len(m.Data) != 7 || m.Param[0] != 1 {
			return fail(0x07)
		}
		return answer(typ, m.Seq, r.iccStatus(), 0, nil)
	case ccid.PCtoRDRXfrBlock:
		return r.xfr(m, fail)
	}
	return fail(ccid.ErrCodeCmdUnsupported)
}

func (r *Reader) xfr(m ccid.Message, fail func(byte) []byte) []byte {
	r.xfrs++
	if r.Faults.RemoveAfter > 0 && r.xfrs > r.Faults.RemoveAfter {
		r.card, r.powered = nil, false
	}
	if ins, ok := r.peekINS(m.Data); ok && r.card != nil {
		switch ins {
		case r.Faults.PullOn:
			r.card, r.powered = nil, false
			select {
			case r.intr <- []byte{ccid.RDRtoPCNotifySlotChg, 0x02}:
			default:
			}
		case r.Faults.MuteOn:
			r.muted = true
		}
	}
	if r.card == nil || !r.powered || r.muted {
		return fail(ccid.ErrCodeICCMute)
	}
	if r.Faults.Mute > 0 { // the card never saw the block
		r.Faults.Mute--
		return fail(ccid.ErrCodeICCMute)
	}
	if r.Level != ccid.LevelTPDU {
		return answer(ccid.RDRtoPCDataBlock, m.Seq, ccid.ICCActive, 0, r.card(m.Data))
	}
	out := r.t.receive(m.Data, r.card, &r.Faults)
	if r.Faults.Parity > 0 { // the card answered; the reader saw a parity error
		r.Faults.Parity--
		return fail(ccid.ErrCodeXfrParity)
	}
	if r.Faults.CorruptBlocks > 0 {
		r.Faults.CorruptBlocks--
		out[len(out)-1] ^= 0x5A
	}
	return answer(ccid.RDRtoPCDataBlock, m.Seq, ccid.ICCActive, 0, out)
}

// peekINS returns the instruction byte of the command APDU that starts in
// an XfrBlock: the APDU itself, or at TPDU level the INF of a T=1 I-block.
func (r *Reader) peekINS(data []byte) (byte, bool) {
	if r.Level != ccid.LevelTPDU {
		if len(data) >= 2 && data[1] != 0 {
			return data[1], true
		}
		return 0, false
	}
	// NAD PCB LEN INF…: an I-block has PCB bit 8 clear.
	if len(data) >= 5 && data[1]&0x80 == 0 && data[4] != 0 {
		return data[4], true
	}
	return 0, false
}

// Descriptors returns the raw USB descriptors (as sysfs's "descriptors"
// file holds them) of a one-slot reader with the given dwFeatures: device,
// configuration, a HID interface first, then the CCID interface with its
// class descriptor and bulk-out 0x02, bulk-in 0x81 and interrupt 0x83.
func Descriptors(features uint32) []byte {
	out := []byte{0x12, 0x01, 0x00, 0x02, 0, 0, 0, 0x40, 0x6B, 0x07, 0x00, 0x35, 0x00, 0x01, 1, 2, 0, 1}
	out = append(out, 0x09, 0x02, 0x5D, 0x00, 0x02, 0x01, 0x00, 0x80, 0x32) // configuration
	out = append(out, 0x09, 0x04, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00) // HID interface
	out = append(out, 0x09, 0x04, 0x01, 0x00, 0x03, 0x0B, 0x00, 0x00, 0x00) // CCID interface 1
	class := make([]byte, 54)
	class[0], class[1] = 54, 0x21
	binary.LittleEndian.PutUint32(class[6:], 3)    // T=0 and T=1
	binary.LittleEndian.PutUint32(class[28:], 254) // dwMaxIFSD
	binary.LittleEndian.PutUint32(class[40:], features)
	binary.LittleEndian.PutUint32(class[44:], 271) // dwMaxCCIDMessageLength
	out = append(out, class...)
	return append(out,
		0x07, 0x05, 0x02, 0x02, 0x40, 0x00, 0x00,
		0x07, 0x05, 0x81, 0x02, 0x40, 0x00, 0x00,
		0x07, 0x05, 0x83, 0x03, 0x08, 0x00, 0x10)
}
