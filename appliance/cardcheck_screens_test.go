package appliance

import "testing"

// checking sets the screen driver's machine to check the card with a
// fake that answers errs in turn, then proofs.
func (d *screenDriver) checking(errs ...error) {
	d.k.m.opt.CardCheck = &fakeCheck{errs: errs}
}

// cardCheckStates are the card check's screens (issue 24): the step, the
// card failing during it (with "back" to the service), and the
// upstream's refusals.
var cardCheckStates = []screenState{
	{"checking-card", func(d *screenDriver) {
		d.checking()
		d.register(ScreenReview)
		d.k.hold = true
		d.tap(IDSubmit)
	}},
	{"card-error-checking", func(d *screenDriver) {
		d.checking(errMute)
		d.service(IDVerify)
		d.fill(FieldCode, "123456")
		d.tap(IDSubmit)
	}},
	{"error-card-not-genuine", func(d *screenDriver) {
		d.checking(&UpstreamError{Kind: KindCardNotGenuine})
		d.service(IDDelete)
		d.fill(FieldPassword, testPassword)
		d.tap(IDSubmit)
	}},
	{"error-card-check-failed", func(d *screenDriver) {
		d.checking(&UpstreamError{Kind: KindCardCheckFailed})
		d.register(ScreenReview)
		d.tap(IDSubmit)
	}},
}

// TestGoldenCardCheckScreens renders the card check's screens in both
// languages at both panel sizes (regenerate with -update).
func TestGoldenCardCheckScreens(t *testing.T) {
	goldenStates(t, cardCheckStates)
}
