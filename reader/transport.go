// Package reader owns the NHI card: the card's protocol (SELECT the NHI
// applet, READ PROFILE, decode and validate the profile) over a small
// transport interface, the transports that reach a card (PC/SC through
// github.com/ebfe/scard; CCID over Linux usbfs in reader/ccid), and the
// events of cards and readers coming and going.
//
// It must not keep a profile beyond returning it, log any of its fields, or
// know about screens, sessions or the upstream.
package reader

import (
	"context"
	"errors"
)

// Transport reaches one card in one reader. The NHI card protocol runs
// unchanged over every implementation.
//
// Transmit sends one command APDU (ISO 7816-4) and returns the whole
// response APDU, data followed by SW1 SW2. It blocks until the card answers,
// ctx ends, or the card goes away; a card removed before or during the
// exchange is reported as an error wrapping ErrCardRemoved. Implementations
// need not be safe for concurrent use: one exchange at a time.
type Transport interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
	// ATR returns the card's answer to reset, as read when it was powered.
	ATR() []byte
}

// Errors a person can act on. Each has a message catalog key (CatalogKey) so
// the screen says what to do in the person's language.
var (
	ErrNoReader        = errors.New("no card reader")
	ErrReaderUnplugged = errors.New("card reader unplugged")
	ErrNoCard          = errors.New("no card in the reader")
	ErrCardMute        = errors.New("card does not answer (inserted the wrong way?)")
	ErrNotNHICard      = errors.New("not an NHI card")
	ErrCardRemoved     = errors.New("card removed during the read")
	ErrGarbledProfile  = errors.New("card profile unreadable")
)

var catalogKeys = map[error]string{
	ErrNoReader:        "card.error.no_reader",
	ErrReaderUnplugged: "card.error.reader_unplugged",
	ErrNoCard:          "card.error.no_card",
	ErrCardMute:        "card.error.mute",
	ErrNotNHICard:      "card.error.not_nhi",
	ErrCardRemoved:     "card.error.removed",
	ErrGarbledProfile:  "card.error.garbled",
}

// CatalogKey returns the message catalog key for the reader error err wraps,
// or "card.error.unknown".
func CatalogKey(err error) string {
	for e, k := range catalogKeys {
		if errors.Is(err, e) {
			return k
		}
	}
	return "card.error.unknown"
}
