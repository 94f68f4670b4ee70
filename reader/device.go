package reader

import (
	"context"
	"encoding/hex"
	"fmt"
)

// Device is one card reader as the kiosk uses it: it reports cards and
// readers coming and going, and reads the NHI card that is in it. The PC/SC
// watcher (reader/pcsc), the CCID reader (reader/ccid) and the in-process
// virtual device (readertest.Device, for demos and headless tests) all
// implement it, and all run the same NHI card protocol (ReadProfile).
type Device interface {
	// Run watches the reader(s) and delivers Events until ctx ends, then
	// closes the Events channel and returns nil; any other return is a
	// failure of the watch itself (e.g. pcscd went away). It first reports
	// the current state: ReaderAttached for each reader, then CardInserted
	// for a card already in one. Call it once.
	Run(ctx context.Context) error
	// Events returns the channel Run delivers events on. Run blocks until
	// each event is taken, so events are never dropped or reordered.
	Events() <-chan Event
	// Read reads and validates the profile of the card in the reader. It
	// does not wait for a card (that is what Events is for): with none in
	// it fails with ErrNoCard, without a reader with ErrNoReader. Its
	// errors wrap the package's sentinels (CatalogKey). It is safe to call
	// while Run runs; calls must not overlap each other. It blocks for the
	// two exchanges with the card and returns early when ctx ends.
	Read(ctx context.Context) (Profile, error)
	// Authenticate reads the card's profile and relays the card
	// authentication ex to it (see the package's Authenticate: the
	// allow-list, the limits), in one transaction where the transport
	// has them (PC/SC) and holding the slot otherwise (CCID), so no other
	// command reaches the card in between. Like Read it never waits for
	// a card and must not overlap Read or another Authenticate; it blocks
	// for the whole exchange, card and network, so bound it with ctx.
	Authenticate(ctx context.Context, ex Exchange) error
}

// EventKind says what happened in an Event.
type EventKind uint8

// Kinds of Event.
const (
	ReaderAttached EventKind = iota + 1 // a reader appeared
	ReaderDetached                      // a reader went away (with any card in it)
	CardInserted                        // a card went in (or was there when Run started)
	CardRemoved                         // the card came out
)

var kindNames = map[EventKind]string{
	ReaderAttached: "reader attached",
	ReaderDetached: "reader detached",
	CardInserted:   "card inserted",
	CardRemoved:    "card removed",
}

func (k EventKind) String() string {
	if s, ok := kindNames[k]; ok {
		return s
	}
	return fmt.Sprintf("EventKind(%d)", k)
}

// Event is a card or reader coming or going. It holds no personal data
// (an ATR identifies the card's chip type, not its holder).
type Event struct {
	Kind   EventKind
	Reader string // the reader's name (PC/SC) or path (CCID)
	// ATR is the card's answer to reset, for CardInserted; empty when the
	// card is mute.
	ATR []byte
	// Mute is set on CardInserted for a card that gave no valid ATR (dead,
	// or inserted the wrong way): Read will fail with ErrCardMute.
	Mute bool
}

func (e Event) String() string {
	s := e.Kind.String() + ": " + e.Reader
	switch {
	case e.Kind != CardInserted:
	case e.Mute:
		s += " (mute: no ATR)"
	default:
		s += " (ATR " + hex.EncodeToString(e.ATR) + ")"
	}
	return s
}
