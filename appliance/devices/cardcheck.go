package devices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// CardCheck has the upstream authenticate the card in the reader
// (appliance.CardChecker, issue 24): the reader reads the card again and
// relays the upstream's exchange to it, in one transaction where the
// transport has them, under the reader's allow-list. Nothing of the
// exchange is logged but counts and status words.
type CardCheck struct {
	Device reader.Device
	Client *upstream.Client
	// Timeout bounds one check, card and network; 0 means DefaultCheckTimeout.
	Timeout time.Duration
	// Log gets one line per check; nil discards.
	Log *slog.Logger
}

// DefaultCheckTimeout bounds a check: the upstream's own bound on an
// exchange (upstream.CardAuthTimeout) is longer, so the kiosk gives up
// first and says so.
const DefaultCheckTimeout = 20 * time.Second

var _ appliance.CardChecker = CardCheck{}

// errOtherCard is a card in the reader that is not the session's: it was
// swapped while the person was at the kiosk.
var errOtherCard = fmt.Errorf("another card is in the reader: %w", reader.ErrCardRemoved)

// CheckCard runs one card authentication for purpose and returns its
// proof. Its errors are the reader's (the card error screen), an
// *appliance.UpstreamError (card_not_genuine; card_check_failed for an
// exchange the kiosk refused or could not follow), or one wrapping
// appliance.ErrUnavailable (the upstream did not answer in time).
func (c CardCheck) CheckCard(ctx context.Context, purpose string, id appliance.Identity) (string, error) {
	t := c.Timeout
	if t <= 0 {
		t = DefaultCheckTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, t)
	defer cancel()
	ex := c.Client.NewCardAuth(purpose)
	err := c.Device.Authenticate(ctx, sameCard{ex, id})
	proof := ""
	if err == nil {
		proof, err = ex.Proof()
	}
	err = checkError(err)
	if c.Log != nil {
		rounds, cmds, sws := ex.Summary()
		c.Log.Info("card check", "purpose", purpose, "rounds", rounds, "commands", cmds,
			"sw", strings.Join(sws, ","), "result", checkResult(err))
	}
	return proof, err
}

// sameCard starts the exchange only for the card the session read.
type sameCard struct {
	*upstream.CardAuth
	id appliance.Identity
}

func (s sameCard) Begin(ctx context.Context, cardNumber, idNumber string, atr []byte) ([][]byte, error) {
	if cardNumber != s.id.CardNumber || idNumber != s.id.IDNumber {
		return nil, errOtherCard
	}
	return s.CardAuth.Begin(ctx, cardNumber, idNumber, atr)
}

// checkError sorts a check's failure for the wizard: the card's errors
// pass as they are (CardErrorKey); the upstream's become its kinds; an
// exchange the relay refused or could not follow is card_check_failed;
// running out of time is unavailable.
func checkError(err error) error {
	var ue *upstream.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return err
	case reader.CatalogKey(err) != "card.error.unknown":
		return err
	case errors.Is(err, reader.ErrRelayRefused), errors.Is(err, upstream.ErrCardAuthAnswer), errors.Is(err, upstream.ErrCardAuthUndecided):
		return fmt.Errorf("card check: %w: %w", &appliance.UpstreamError{Kind: appliance.KindCardCheckFailed}, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("card check: %w: %w", appliance.ErrUnavailable, err)
	case errors.As(err, &ue), errors.Is(err, upstream.ErrUnavailable):
		return wizardError("card check", err)
	}
	return err // the card's, unclassified: "something went wrong reading the card"
}

// checkResult names a check's outcome for the log.
func checkResult(err error) string {
	var ue *appliance.UpstreamError
	switch {
	case err == nil:
		return "genuine"
	case errors.As(err, &ue):
		return ue.Kind
	case errors.Is(err, appliance.ErrUnavailable):
		return appliance.KindUnavailable
	}
	return reader.CatalogKey(err)
}
