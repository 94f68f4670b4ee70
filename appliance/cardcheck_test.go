package appliance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeCheck is a card checker that answers with the errors given in
// turn, then with proofs "proof-1", "proof-2", …
type fakeCheck struct {
	mu       sync.Mutex
	errs     []error
	purposes []string
	ids      []Identity
}

func (c *fakeCheck) CheckCard(_ context.Context, purpose string, id Identity) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.purposes = append(c.purposes, purpose)
	c.ids = append(c.ids, id)
	if len(c.errs) > 0 {
		err := c.errs[0]
		c.errs = c.errs[1:]
		return "", err
	}
	return fmt.Sprintf("proof-%d", len(c.purposes)), nil
}

var errMute = errors.New("card mute (test)")

// newCheckDriver is a driver whose machine checks the card.
func newCheckDriver(t *testing.T, errs ...error) (*driver, *fakeCheck) {
	d := newDriver(t)
	c := &fakeCheck{errs: errs}
	d.m.opt.CardCheck = c
	d.m.opt.CardKey = func(err error) string {
		if errors.Is(err, errMute) {
			return "card.error.mute"
		}
		return "card.error.unknown"
	}
	return d, c
}

// checkFlows are the five services that need proof of the card: how to
// reach the submit, the screen it is on, what the upstream is called, and
// where a success lands.
var checkFlows = []struct {
	purpose string
	screen  ScreenID
	reach   func(d *driver)
	call    string
	done    ScreenID
}{
	{PurposeRegistration, ScreenReview, func(d *driver) { d.registerTo(ScreenReview) }, "Register", ScreenReceipt},
	{PurposeVerification, ScreenVerify, func(d *driver) { d.toMenu(); d.tap(IDVerify); d.typeIn(FieldCode, "123456") }, "Verify", ScreenResult},
	{PurposePasswordReset, ScreenReset, func(d *driver) {
		d.toMenu()
		d.tap(IDForgot, IDSubmit)
		d.typeIn(FieldCode, "123456")
		d.typeIn(FieldPassword, "Xyz98#ab")
		d.typeIn(FieldPassword2, "Xyz98#ab")
	}, "ResetPassword", ScreenResult},
	{PurposeCancellation, ScreenDelete, func(d *driver) { d.toMenu(); d.tap(IDDelete); d.typeIn(FieldPassword, testPassword) }, "Cancel", ScreenResult},
	{PurposeLogin, ScreenLogin, func(d *driver) { d.toMenu(); d.tap(IDLogin); d.typeIn(FieldPassword, testPassword) }, "Login", ScreenAccount},
}

// Each service checks the card once, for its purpose, before its call,
// and the call carries that check's proof.
func TestCardCheckEveryFlow(t *testing.T) {
	for _, f := range checkFlows {
		t.Run(f.purpose, func(t *testing.T) {
			d, c := newCheckDriver(t)
			f.reach(d)
			d.wantScreen(f.screen)
			before := d.count(f.call)
			d.tap(IDSubmit)
			d.wantScreen(f.done)
			if !slices.Equal(c.purposes, []string{f.purpose}) {
				t.Errorf("checks %v, want one for %s", c.purposes, f.purpose)
			}
			if got := c.ids[0]; got.CardNumber != testCard || got.IDNumber != testID || got.CardProof != "" {
				t.Errorf("checked %+v, want the card holder's identity", got)
			}
			if d.count(f.call) != before+1 || !slices.Equal(d.up.proofs, []string{"proof-1"}) {
				t.Errorf("%s called %d times with proofs %v, want once with proof-1", f.call, d.count(f.call)-before, d.up.proofs)
			}
		})
	}
}

// The checking step waits: no idle warning while it shows.
func TestCardCheckShowsStep(t *testing.T) {
	d, c := newCheckDriver(t)
	d.toMenu()
	d.tap(IDVerify)
	d.typeIn(FieldCode, "123456")
	jobs := d.m.Handle(Tap{ID: IDSubmit}) // held: the check is under way
	d.wantScreen(ScreenCheckingCard)
	d.advance(3 * time.Minute)
	if on, _ := d.m.Warning(); on {
		t.Errorf("idle warning while the card is checked")
	}
	d.run(jobs)
	d.wantScreen(ScreenResult)
	if len(c.purposes) != 1 {
		t.Errorf("%d checks, want 1", len(c.purposes))
	}
}

// A card that fails during the check shows the card error screen, as in
// any card step; "read again" checks again and goes on, "back" returns to
// the service's screen with what was typed.
func TestCardCheckCardError(t *testing.T) {
	for _, f := range checkFlows {
		t.Run(f.purpose, func(t *testing.T) {
			d, c := newCheckDriver(t, errMute, errMute)
			f.reach(d)
			d.tap(IDSubmit)
			d.wantScreen(ScreenCardError)
			if got := d.m.sess.cardErrKey; got != "card.error.mute" {
				t.Errorf("card error %q, want card.error.mute", got)
			}
			if d.count(f.call) != 0 {
				t.Fatalf("%s called without a checked card", f.call)
			}
			d.tap(IDBack)
			d.wantScreen(f.screen)
			d.tap(IDSubmit)
			d.wantScreen(ScreenCardError)
			d.tap(IDRetry)
			d.wantScreen(f.done)
			if len(c.purposes) != 3 || d.count(f.call) != 1 || !slices.Equal(d.up.proofs, []string{"proof-3"}) {
				t.Errorf("%d checks, %d calls with proofs %v; want 3 checks, then one call with proof-3", len(c.purposes), d.count(f.call), d.up.proofs)
			}
		})
	}
}

// The upstream's refusal of the card, an exchange that broke, or an
// upstream that does not answer end the service on the error screen.
func TestCardCheckRefused(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		kind string
	}{
		"not genuine": {&UpstreamError{Kind: KindCardNotGenuine}, KindCardNotGenuine},
		"broken":      {&UpstreamError{Kind: KindCardCheckFailed}, KindCardCheckFailed},
		"unreachable": {fmt.Errorf("check: %w", ErrUnavailable), KindUnavailable},
		"timeout":     {fmt.Errorf("check: %w", context.DeadlineExceeded), KindUnavailable},
	} {
		t.Run(name, func(t *testing.T) {
			d, _ := newCheckDriver(t, tc.err)
			d.registerTo(ScreenReview)
			d.tap(IDSubmit)
			d.wantScreen(ScreenError)
			if d.m.sess.errKind != tc.kind {
				t.Errorf("error kind %q, want %q", d.m.sess.errKind, tc.kind)
			}
			if d.count("Register") != 0 {
				t.Errorf("registered without a checked card")
			}
			d.tap(IDMenu)
			d.wantScreen(ScreenMenu)
		})
	}
}

// The card pulled while it is checked ends the session; the check's late
// answer changes nothing.
func TestCardCheckCardPulled(t *testing.T) {
	d, _ := newCheckDriver(t)
	d.registerTo(ScreenReview)
	jobs := d.m.Handle(Tap{ID: IDSubmit})
	d.wantScreen(ScreenCheckingCard)
	d.do(CardRemoved{})
	d.wantScreen(ScreenRemoved)
	d.run(jobs)
	d.wantScreen(ScreenRemoved)
	if d.count("Register") != 0 {
		t.Errorf("registered after the card was pulled")
	}
}
