package reader

import (
	"bytes"
	"errors"
	"fmt"
)

// The allow-list of the relay (Authenticate). The kiosk passes the
// upstream's command APDUs to the card without understanding them, as an
// eID client passes the eID server's (BSI TR-03112 Transmit, used by the
// client of TR-03124), but it does not trust them: a command goes to the
// card only if it
//   - is a short APDU (ISO 7816-4 §5.1, cases 1–4, no extended length) of
//     class 00: no secure messaging, no command chaining, no logical
//     channel other than the basic one, no proprietary class;
//   - stays in the NHI application: SELECT by name of the NHI AID only;
//   - reads or proves and changes nothing on the card: READ BINARY, READ
//     RECORD, GET DATA, GET CHALLENGE, INTERNAL AUTHENTICATE.
//
// Everything else is refused before any command of its batch is sent:
// writing (UPDATE/WRITE BINARY, PUT DATA, records), the card's and files'
// life cycle (CREATE, DELETE, ACTIVATE, DEACTIVATE, TERMINATE), PINs and
// keys, whose retry counters a wrong try uses up (VERIFY, CHANGE/RESET
// REFERENCE DATA, EXTERNAL/GENERAL AUTHENTICATE, MANAGE SECURITY
// ENVIRONMENT), signing whatever the far end asks (PERFORM SECURITY
// OPERATION), other channels and applications (MANAGE CHANNEL, SELECT of
// anything else), and GET RESPONSE, which the relay issues itself.

// ISO 7816-4 instruction bytes of the allow-list.
const (
	insSelect       = 0xA4
	insReadBinary   = 0xB0
	insReadRecord   = 0xB2
	insGetData      = 0xCA
	insGetChallenge = 0x84
	insInternalAuth = 0x88
)

// Limits of one relayed exchange. The upstream API states the same ones
// (upstream.CardAuthMax*); a test keeps the two in step.
const (
	MaxRelayRounds   = 4   // batches in one exchange
	MaxRelayBatch    = 8   // command APDUs in one batch
	MaxRelayCommand  = 261 // bytes of one command APDU (4 + Lc + 255 + Le)
	MaxRelayResponse = 256 // bytes of response data to one command, SW aside
)

// ErrRelayRefused is a batch the kiosk will not relay: a command outside
// the allow-list, too many commands or rounds, or a card answering more
// than the limit. Nothing of the offending batch reached the card.
var ErrRelayRefused = errors.New("relay refused")

// nhiAID is the NHI application's name, as SelectNHI carries it.
var nhiAID = SelectNHI[5:21]

// CheckCommand reports whether the relay may send apdu to the card (the
// allow-list above). Its error wraps ErrRelayRefused and names the
// instruction, never the data.
func CheckCommand(apdu []byte) error {
	c, err := parseShort(apdu)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRelayRefused, err)
	}
	if c.cla != 0x00 {
		return fmt.Errorf("%w: class %02X (only 00: no secure messaging, chaining or other channel)", ErrRelayRefused, c.cla)
	}
	ok := false
	switch c.ins {
	case insSelect:
		ok = c.p1 == 0x04 && (c.p2 == 0x00 || c.p2 == 0x0C) && bytes.Equal(c.data, nhiAID)
	case insReadBinary, insReadRecord, insGetChallenge:
		ok = c.data == nil // case 1 or 2: nothing sent to the card
	case insGetData:
		ok = len(c.data) <= 16 // a tag list or a short selector, as READ PROFILE sends
	case insInternalAuth:
		ok = len(c.data) > 0
	}
	if !ok {
		return fmt.Errorf("%w: INS %02X P1 %02X is not on the allow-list", ErrRelayRefused, c.ins, c.p1)
	}
	return nil
}

// CheckBatch checks a whole batch: its size, then every command. The
// relay sends none of a batch that fails.
func CheckBatch(cmds [][]byte) error {
	if len(cmds) > MaxRelayBatch {
		return fmt.Errorf("%w: %d commands in one batch (at most %d)", ErrRelayRefused, len(cmds), MaxRelayBatch)
	}
	for i, c := range cmds {
		if err := CheckCommand(c); err != nil {
			return fmt.Errorf("command %d: %w", i+1, err)
		}
	}
	return nil
}

// shortAPDU is a command APDU taken apart.
type shortAPDU struct {
	cla, ins, p1, p2 byte
	data             []byte // nil for cases 1 and 2
}

// parseShort takes a short command APDU apart (ISO 7816-4 §5.1): header;
// header Le; header Lc data; header Lc data Le. Extended lengths (a
// first length byte of 00 followed by more) are refused.
func parseShort(apdu []byte) (shortAPDU, error) {
	n := len(apdu)
	if n < 4 || n > MaxRelayCommand {
		return shortAPDU{}, fmt.Errorf("command of %d bytes (4 to %d)", n, MaxRelayCommand)
	}
	c := shortAPDU{cla: apdu[0], ins: apdu[1], p1: apdu[2], p2: apdu[3]}
	switch {
	case n <= 5: // case 1, or case 2 with Le
		return c, nil
	case apdu[4] == 0:
		return shortAPDU{}, errors.New("extended length")
	case n == 5+int(apdu[4]) || n == 6+int(apdu[4]): // case 3, case 4
		c.data = apdu[5 : 5+int(apdu[4])]
		return c, nil
	}
	return shortAPDU{}, fmt.Errorf("Lc %d does not match a command of %d bytes", apdu[4], n)
}
