package reader

import (
	"context"
	"errors"
	"fmt"
)

// Status words (ISO 7816-4 §5.1.3) the protocol acts on.
const (
	swOK = 0x9000
)

// Limits that keep a misbehaving card from looping the APDU layer forever
// or growing a response without bound.
const (
	maxGetResponse = 32       // GET RESPONSE rounds for one command
	maxResponse    = 64 << 10 // bytes of response data for one command
)

// errMalformed is a response APDU too short to hold a status word, or a
// card that keeps asking for more exchanges than any NHI card does. The
// protocol layer maps it to the error of the step it was in.
var errMalformed = errors.New("malformed response APDU")

// exchange sends one command APDU and returns the response data and the
// final status word. It follows the two ways a card or reader may ask for
// another round (ISO 7816-4 §5.1.3, T=0 in §5.3 of 7816-3):
//   - 61xx: xx more bytes wait; fetch them with GET RESPONSE (and keep
//     going while the card says 61xx again);
//   - 6Cxx: wrong Le; send the same command again with Le = xx.
//
// It never panics on any response, and it bounds the number of rounds.
func exchange(ctx context.Context, t Transport, cmd []byte) ([]byte, uint16, error) {
	out, sw, err := round(ctx, t, cmd, nil)
	if err == nil && sw>>8 == 0x6C {
		clear(out)
		out, sw, err = round(ctx, t, withLe(cmd, byte(sw)), nil)
	}
	for i := 0; err == nil && sw>>8 == 0x61; i++ {
		if i == maxGetResponse || len(out) > maxResponse {
			clear(out)
			return nil, 0, fmt.Errorf("%w: GET RESPONSE does not end", errMalformed)
		}
		out, sw, err = round(ctx, t, []byte{cmd[0], 0xC0, 0x00, 0x00, byte(sw)}, out)
	}
	if err != nil {
		clear(out)
		return nil, 0, err
	}
	return out, sw, nil
}

// round is one exchange: it appends the response data to out, returns the
// status word, and zeroes the transport's buffer (it may hold the profile).
func round(ctx context.Context, t Transport, cmd, out []byte) ([]byte, uint16, error) {
	resp, err := transmit(ctx, t, cmd)
	if err != nil {
		return out, 0, err
	}
	data, sw := split(resp)
	out = append(out, data...)
	clear(resp)
	return out, sw, nil
}

// transmit is one Transport exchange that checks ctx first and refuses a
// response without a status word.
func transmit(ctx context.Context, t Transport, cmd []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resp, err := t.Transmit(ctx, cmd)
	if err != nil {
		return nil, err
	}
	if len(resp) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", errMalformed, len(resp))
	}
	return resp, nil
}

// split separates a response APDU (at least 2 bytes) into data and SW1SW2.
func split(resp []byte) ([]byte, uint16) {
	n := len(resp) - 2
	return resp[:n], uint16(resp[n])<<8 | uint16(resp[n+1])
}

// withLe returns cmd (a short command APDU, at least 4 bytes) with its Le
// set to le, adding Le for case 1 and 3 commands (ISO 7816-4 §5.1).
func withLe(cmd []byte, le byte) []byte {
	out := append([]byte(nil), cmd...)
	switch {
	case len(cmd) == 5: // case 2: header + Le
		out[4] = le
	case len(cmd) > 5 && len(cmd) == 6+int(cmd[4]): // case 4: header Lc data Le
		out[len(out)-1] = le
	default: // case 1 (header only) or 3 (header Lc data)
		out = append(out, le)
	}
	return out
}
