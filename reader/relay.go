package reader

import (
	"context"
	"fmt"
)

// Exchange is the far end of a card authentication: the upstream's
// security module, which decides whether the card is genuine. The kiosk
// only relays (Authenticate): it hands the card's identity to Begin, sends
// each batch of command APDUs the far end returns to the card, and returns
// the answers to Continue, until a batch comes back empty. Neither method
// is called concurrently with the other.
//
// The methods use plain byte slices, so the upstream's client implements
// Exchange without knowing this package, and this package knows nothing of
// the upstream.
type Exchange interface {
	// Begin starts the exchange for the card whose profile was just read
	// in the same transaction (its card and ID numbers) and its ATR, and
	// returns the first batch. It blocks on the network and returns early
	// when ctx ends.
	Begin(ctx context.Context, cardNumber, idNumber string, atr []byte) ([][]byte, error)
	// Continue returns the card's answers to the last batch, each the
	// response data followed by SW1 SW2, in order; the relay stops a batch
	// after the first answer whose status is not 9000, so there may be
	// fewer answers than commands. It returns the next batch, or none when
	// the far end has decided; a refusal is an error.
	Continue(ctx context.Context, responses [][]byte) ([][]byte, error)
}

// Authenticate reads the card's profile over t and relays ex to the card,
// all over the same transport (a Device calls it inside one PC/SC
// transaction, or while it holds the CCID slot), so the card the far end
// authenticates is the card whose profile it was given.
//
// Every batch is checked against the allow-list (CheckBatch) before any of
// it is sent; the exchange is bounded to MaxRelayRounds batches; answers
// longer than MaxRelayResponse end it. A refusal wraps ErrRelayRefused.
// Card failures wrap the reader's sentinels as ReadProfile's do
// (ErrCardRemoved, ErrCardMute, …); errors of ex are returned wrapped.
// Bound the whole exchange with ctx: a transport blocks for at most one
// command, and ex for at most one request.
func Authenticate(ctx context.Context, t Transport, ex Exchange) error {
	p, err := ReadProfile(ctx, t)
	if err != nil {
		return err
	}
	cmds, err := ex.Begin(ctx, p.CardNumber, p.IDNumber, t.ATR())
	p.Wipe()
	if err != nil {
		return fmt.Errorf("card authentication: begin: %w", err)
	}
	for round := 1; len(cmds) > 0; round++ {
		if round > MaxRelayRounds {
			return fmt.Errorf("card authentication: %w: more than %d rounds", ErrRelayRefused, MaxRelayRounds)
		}
		if err := CheckBatch(cmds); err != nil {
			return fmt.Errorf("card authentication: round %d: %w", round, err)
		}
		rs, err := relayBatch(ctx, t, cmds)
		if err != nil {
			return fmt.Errorf("card authentication: round %d: %w", round, err)
		}
		cmds, err = ex.Continue(ctx, rs)
		for _, r := range rs {
			clear(r)
		}
		if err != nil {
			return fmt.Errorf("card authentication: round %d: %w", round, err)
		}
	}
	return nil
}

// relayBatch sends the commands in order and returns their answers (data
// and status word), stopping after the first whose status is not 9000.
// The APDU layer follows 61xx and 6Cxx itself, as for the profile.
func relayBatch(ctx context.Context, t Transport, cmds [][]byte) ([][]byte, error) {
	out := make([][]byte, 0, len(cmds))
	for _, cmd := range cmds {
		data, sw, err := exchange(ctx, t, cmd)
		if err != nil {
			// A card that answers garbage, or nothing, is mute.
			return nil, classify(err, ErrCardMute)
		}
		if len(data) > MaxRelayResponse {
			clear(data)
			return nil, fmt.Errorf("%w: the card answered %d bytes (at most %d)", ErrRelayRefused, len(data), MaxRelayResponse)
		}
		out = append(out, append(data, byte(sw>>8), byte(sw)))
		if sw != swOK {
			break
		}
	}
	return out, nil
}
