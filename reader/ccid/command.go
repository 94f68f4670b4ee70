package ccid

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
)

// SlotError is a command the reader reports as failed (bmCommandStatus 1),
// with its bError code (CCID table 6.2-2).
type SlotError struct {
	Type byte // the command
	Code byte
}

func (e *SlotError) Error() string {
	return fmt.Sprintf("ccid: command %#02x failed with slot error %#02x", e.Type, e.Code)
}

// maxStale is how many responses with another sequence number (left over
// from an exchange that was given up) are skipped before giving up.
const maxStale = 4

// command sends one PC_to_RDR message and returns the reader's answer,
// waiting through time extensions. An absent card is reader.ErrNoCard
// (or reader.ErrCardRemoved once it had been powered), a mute card
// reader.ErrCardMute for commands other than XfrBlock, other failures a
// *SlotError.
func (r *Reader) command(ctx context.Context, typ byte, param [3]byte, data []byte) (Message, error) {
	if max := r.maxMessage(); len(data)+headerLen > max {
		return Message{}, fmt.Errorf("ccid: message of %d bytes exceeds the reader's %d", len(data)+headerLen, max)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	seq := r.seq
	msg := Message{Type: typ, Seq: seq, Param: param, Data: data}
	if err := r.dev.Write(ctx, msg.Encode()); err != nil {
		return Message{}, fmt.Errorf("ccid: send %#02x: %w", typ, err)
	}
	buf := make([]byte, r.maxMessage())
	stale := 0
	for {
		m, err := r.read(ctx, buf)
		if err != nil {
			return Message{}, err
		}
		if m.Seq != seq || m.Slot != 0 {
			if stale++; stale > maxStale {
				return Message{}, fmt.Errorf("ccid: %w: answers out of sequence", ErrMessage)
			}
			continue
		}
		if want := responseType(typ); m.Type != want {
			return Message{}, fmt.Errorf("%w: answer %#02x to %#02x", ErrMessage, m.Type, typ)
		}
		switch m.CommandStatus() {
		case cmdTimeExt:
			continue // the card asked for more time; the reader tells us so
		case cmdFailed:
			return m, r.slotError(typ, m)
		}
		if err := r.slotGone(typ, m); err != nil {
			return m, err
		}
		return m, nil
	}
}

// slotGone reads the slot status of every successful answer: a reader
// may answer a command it had pending when the card left with an empty,
// successful block whose bmICCStatus says "no ICC" (QEMU's usb-ccid
// flushes its pending XfrBlock that way, issue 18). That is a removal,
// not a mute card. For XfrBlock an ICC present but no longer active
// (pulled out and pushed back between two blocks) is one too. The answer
// to GetSlotStatus is the status itself, and PowerOff expects no card.
func (r *Reader) slotGone(typ byte, m Message) error {
	switch typ {
	case PCtoRDRGetSlotStatus, PCtoRDRIccPowerOff:
		return nil
	}
	st := m.ICCStatus()
	if st != ICCAbsent && (typ != PCtoRDRXfrBlock || st != ICCInactive) {
		return nil
	}
	if r.on.Swap(false) {
		return fmt.Errorf("%w (answer to %#02x with slot status %d)", reader.ErrCardRemoved, typ, st)
	}
	return fmt.Errorf("%w (answer to %#02x with slot status %d)", reader.ErrNoCard, typ, st)
}

// read waits for one bulk-in message, bounded by ReadTimeout.
func (r *Reader) read(ctx context.Context, buf []byte) (Message, error) {
	rctx, cancel := context.WithTimeout(ctx, r.ReadTimeout)
	defer cancel()
	n, err := r.dev.Read(rctx, buf)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
			return Message{}, fmt.Errorf("ccid: reader sent nothing for %v: %w", r.ReadTimeout, reader.ErrCardMute)
		}
		return Message{}, fmt.Errorf("ccid: receive: %w", err)
	}
	return ParseMessage(buf[:n])
}

func (r *Reader) slotError(typ byte, m Message) error {
	se := &SlotError{Type: typ, Code: m.Error()}
	switch {
	case m.ICCStatus() == ICCAbsent && r.on.Swap(false):
		return fmt.Errorf("%w (%w)", reader.ErrCardRemoved, se)
	case m.ICCStatus() == ICCAbsent:
		return fmt.Errorf("%w (%w)", reader.ErrNoCard, se)
	case typ != PCtoRDRXfrBlock && se.Code == ErrCodeICCMute:
		return fmt.Errorf("%w (%w)", reader.ErrCardMute, se)
	case typ == PCtoRDRIccPowerOn && (se.Code == ErrCodeBadATRTS || se.Code == ErrCodeBadATRTCK):
		return fmt.Errorf("%w (%w)", reader.ErrCardMute, se)
	}
	return se
}

func responseType(cmd byte) byte {
	switch cmd {
	case PCtoRDRIccPowerOn, PCtoRDRXfrBlock:
		return RDRtoPCDataBlock
	case PCtoRDRGetParameters, PCtoRDRSetParameters:
		return RDRtoPCParameters
	}
	return RDRtoPCSlotStatus
}

func (r *Reader) maxMessage() int {
	if r.desc.MaxMessageLen < maxMessageLenFallback {
		return maxMessageLenFallback
	}
	return r.desc.MaxMessageLen
}

// xfrAPDU exchanges a short or extended APDU with an APDU-level reader,
// chaining through wLevelParameter where the message is longer than the
// reader takes (CCID 6.1.4, table 6.1-3).
func (r *Reader) xfrAPDU(ctx context.Context, apdu []byte) ([]byte, error) {
	room := r.maxMessage() - headerLen
	var m Message
	var err error
	for off := 0; ; {
		n := min(room, len(apdu)-off)
		level := chainLevel(off, off+n, len(apdu))
		m, err = r.command(ctx, PCtoRDRXfrBlock, [3]byte{0, byte(level), byte(level >> 8)}, apdu[off:off+n])
		if err != nil {
			return nil, err
		}
		if off += n; off == len(apdu) {
			break
		}
	}
	resp := append([]byte(nil), m.Data...)
	for chain := m.Param[2]; chain == 0x01 || chain == 0x03; chain = m.Param[2] {
		if m, err = r.command(ctx, PCtoRDRXfrBlock, [3]byte{0, 0x10, 0}, nil); err != nil {
			return nil, err
		}
		resp = append(resp, m.Data...)
	}
	return resp, nil
}

// chainLevel returns wLevelParameter for the command piece [from, to) of
// an APDU of n bytes: 0 whole, 1 begins, 3 continues, 2 ends.
func chainLevel(from, to, n int) int {
	switch {
	case from == 0 && to == n:
		return 0
	case from == 0:
		return 1
	case to == n:
		return 2
	}
	return 3
}

// WaitCardChange blocks until the slot's state differs from was (a card
// inserted or removed) and reports whether a card is now present. It reads
// NotifySlotChange from the interrupt endpoint, asking GetSlotStatus after
// SlotCheck without one in case a notification was lost, or polls
// GetSlotStatus every PollInterval on readers without that endpoint.
func (r *Reader) WaitCardChange(ctx context.Context, was bool) (bool, error) {
	buf := make([]byte, 8)
	for {
		ictx, cancel := ctx, context.CancelFunc(func() {})
		if r.SlotCheck > 0 {
			ictx, cancel = context.WithTimeout(ctx, r.SlotCheck)
		}
		n, err := r.dev.Interrupt(ictx, buf)
		cancel()
		switch {
		case errors.Is(err, ErrNoInterrupt):
			return r.pollCardChange(ctx, was)
		case err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded):
			// Quiet for SlotCheck: make sure no notification was lost
			// (a card pulled out must never look present).
			now, err := r.CardPresent(ctx)
			if err != nil {
				return was, fmt.Errorf("ccid: wait for card: %w", err)
			}
			if now != was {
				return now, nil
			}
			continue
		case err != nil:
			return was, fmt.Errorf("ccid: wait for card: %w", err)
		}
		changes, err := ParseInterrupt(buf[:n], r.desc.MaxSlot+1)
		if err != nil {
			return was, fmt.Errorf("ccid: wait for card: %w", err)
		}
		// Only transitions count: readers also report the current state
		// (when the pipe starts, or twice for one change).
		if c := changes[0]; c.Present != was {
			return c.Present, nil
		}
	}
}

func (r *Reader) pollCardChange(ctx context.Context, was bool) (bool, error) {
	t := time.NewTicker(r.PollInterval)
	defer t.Stop()
	for {
		now, err := r.CardPresent(ctx)
		if err != nil {
			return was, err
		}
		if now != was {
			return now, nil
		}
		select {
		case <-ctx.Done():
			return was, ctx.Err()
		case <-t.C:
		}
	}
}
