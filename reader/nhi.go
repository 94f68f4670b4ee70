package reader

import (
	"context"
	"errors"
	"fmt"
)

// Commands of the NHI card, as public readers of the card send them.
var (
	// SelectNHI selects the NHI applet: AID D1 58 00 00 01 00 … 00 11 00
	// (16 bytes), no Le, exactly as public readers of the card send it.
	SelectNHI = []byte{
		0x00, 0xA4, 0x04, 0x00, 0x10,
		0xD1, 0x58, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00,
	}
	// ReadProfileCmd reads the 57-byte holder profile.
	ReadProfileCmd = []byte{0x00, 0xCA, 0x11, 0x00, 0x02, 0x00, 0x00}
)

// ReadProfile runs the NHI card protocol over t: SELECT the NHI applet,
// READ PROFILE, then decode and validate the profile. It wipes the buffers
// it read the card into before returning.
//
// Its errors wrap, by step: ErrCardMute (no ATR, or the card does not
// answer), ErrNotNHICard (SELECT refused or garbage), ErrGarbledProfile
// (READ PROFILE refused, or a profile that fails validation), and whatever
// sentinel the transport reports (ErrCardRemoved, ErrReaderUnplugged, …).
// A cancelled ctx is returned as is.
func ReadProfile(ctx context.Context, t Transport) (Profile, error) {
	if len(t.ATR()) == 0 {
		return Profile{}, fmt.Errorf("read NHI card: %w", ErrCardMute)
	}
	data, sw, err := exchange(ctx, t, SelectNHI)
	wipe(data)
	if err != nil {
		return Profile{}, fmt.Errorf("select NHI applet: %w", classify(err, ErrNotNHICard))
	}
	if sw != swOK {
		return Profile{}, fmt.Errorf("select NHI applet: status %04X: %w", sw, ErrNotNHICard)
	}
	data, sw, err = exchange(ctx, t, ReadProfileCmd)
	defer wipe(data)
	if err != nil {
		return Profile{}, fmt.Errorf("read NHI profile: %w", classify(err, ErrGarbledProfile))
	}
	if sw != swOK {
		return Profile{}, fmt.Errorf("read NHI profile: status %04X: %w", sw, ErrGarbledProfile)
	}
	p, err := DecodeProfile(data)
	if err != nil {
		return Profile{}, fmt.Errorf("decode NHI profile: %w", err)
	}
	return p, nil
}

// classify maps an exchange error to what a person can act on: the
// transport's own sentinels and context errors pass through; a malformed
// answer is the step's error (malformed); anything else means the card
// stopped answering (ErrCardMute).
func classify(err, malformed error) error {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case isSentinel(err):
		return err
	case errors.Is(err, errMalformed):
		return fmt.Errorf("%w: %w", malformed, err)
	}
	return fmt.Errorf("%w: %w", ErrCardMute, err)
}

func isSentinel(err error) bool {
	for e := range catalogKeys {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func wipe(b []byte) { clear(b) }
