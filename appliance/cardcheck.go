package appliance

import (
	"context"
	"errors"
)

// The card check (認證, issue 24): before the call that needs proof of the
// card (the registration, the e-mail verification, the new password of a
// reset, the cancellation, the login), the upstream authenticates the card
// in the reader itself, through the kiosk's relay, and the call carries
// its proof. The person sees a short "checking your card" step. A card
// that fails as a card (pulled, mute, …) shows the card error screen, as
// every card step does, whose "read again" checks again and whose "back"
// returns to the flow's screen, data kept; the upstream's refusals (not
// genuine, unreachable) show the error screen.

// ScreenCheckingCard is the step while the upstream checks the card.
const ScreenCheckingCard ScreenID = "checking_card"

// Purposes of a card check: the call its proof opens. The adapter passes
// them to the upstream as they are (upstream.Purpose*).
const (
	PurposeRegistration  = "registration"
	PurposeVerification  = "verification"
	PurposePasswordReset = "password_reset"
	PurposeCancellation  = "cancellation"
	PurposeLogin         = "login"
)

// Kinds of upstream errors of the card check.
const (
	KindCardNotGenuine  = "card_not_genuine"  // the upstream's security module refused the card
	KindCardCheckFailed = "card_check_failed" // the exchange broke (a refused command, a malformed answer, a refused proof)
)

// CardChecker has the upstream authenticate the card in the reader for
// one call (purpose) of the card holder id: it reads the card again and
// relays the upstream's exchange to it. It returns the proof the call
// carries ("" when the upstream authenticates no cards). It blocks for
// the whole exchange, card and network, and ends with ctx; its errors
// are the card's (shown through CardErrorKey) or an *UpstreamError or one
// wrapping ErrUnavailable. It is called from one goroutine at a time.
type CardChecker interface {
	CheckCard(ctx context.Context, purpose string, id Identity) (proof string, err error)
}

// cardCheck is a check under way, or waiting for "read again" after a
// card error.
type cardCheck struct {
	purpose string
	from    ScreenID // the flow's screen it was asked on
	then    func(w wizard, id Identity) []Job
}

// checkCard has the card checked for purpose, then runs then with the
// card holder's identity carrying the proof. then runs on the machine, as
// a reply, and reads what it sends from the session then. Without a
// CardChecker (unit tests of the flows) then runs at once.
func (w wizard) checkCard(purpose string, from ScreenID, then func(w wizard, id Identity) []Job) []Job {
	if w.m.opt.CardCheck == nil {
		return then(w, w.identity())
	}
	w.m.sess.check = &cardCheck{purpose: purpose, from: from, then: then}
	return w.m.runCheck()
}

// runCheck shows the checking step and starts the check of sess.check.
func (m *Machine) runCheck() []Job {
	s := m.sess
	c, cc, id := s.check, m.opt.CardCheck, m.wizard().identity()
	s.cardErrKey = ""
	m.goTo(ScreenCheckingCard)
	m.opt.Log.Info("card check", "session", s.id, "purpose", c.purpose)
	return []Job{m.wizard().job(func(ctx context.Context) reply {
		proof, err := cc.CheckCard(ctx, c.purpose, id)
		return func(w wizard) []Job { return w.m.checked(c, proof, err) }
	})}
}

// checked takes the check's outcome.
func (m *Machine) checked(c *cardCheck, proof string, err error) []Job {
	s := m.sess
	if s.check != c || m.screen != ScreenCheckingCard {
		return nil // the person went on meanwhile
	}
	w := m.wizard()
	var ue *UpstreamError
	switch {
	case err == nil:
		s.check = nil
		id := w.identity()
		id.CardProof = proof
		w.info("card checked", "purpose", c.purpose)
		return c.then(w, id)
	case errors.As(err, &ue), errors.Is(err, ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		s.check = nil
		return w.refused(err, c.from)
	case errors.Is(err, context.Canceled):
		return nil
	}
	s.cardErrKey = m.opt.CardKey(err)
	w.info("card check failed", "purpose", c.purpose, "err_kind", s.cardErrKey)
	m.goTo(ScreenCardError)
	return nil
}

// tapCardError handles the card error screen's buttons while a check
// waits: read (and check) again, or back to the flow's screen.
func (m *Machine) tapCardError(id string) ([]Job, bool) {
	s := m.sess
	if s == nil || s.check == nil {
		return nil, false
	}
	switch id {
	case IDRetry:
		return m.runCheck(), true
	case IDBack:
		from := s.check.from
		s.check, s.cardErrKey = nil, ""
		m.goTo(from)
		return nil, true
	}
	return nil, false
}
