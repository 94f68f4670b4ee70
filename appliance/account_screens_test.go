package appliance

import (
	"image"
	"testing"
	"time"
)

func (d *screenDriver) login(pw string) {
	d.do(CardInserted{})
	d.tap(IDLogin)
	d.fill(FieldPassword, pw)
	d.tap(IDSubmit)
}

// accountStates reaches every screen and error state of the account
// services.
var accountStates = []screenState{
	{"login", func(d *screenDriver) { d.do(CardInserted{}); d.tap(IDLogin) }},
	{"login-wrong-password", func(d *screenDriver) { d.login("Wrong1!x") }},
	{"login-busy", func(d *screenDriver) {
		d.do(CardInserted{})
		d.tap(IDLogin)
		d.fill(FieldPassword, testPassword)
		d.k.hold = true
		d.tap(IDSubmit)
	}},
	{"error-account-locked", func(d *screenDriver) {
		d.up.errs["Login"] = &UpstreamError{Kind: KindAccountLocked}
		d.login(testPassword)
	}},
	{"error-unauthorized", func(d *screenDriver) {
		d.login(testPassword)
		d.up.errs["Devices"] = &UpstreamError{Kind: KindUnauthorized}
		d.tap(IDDevices)
	}},
	{"account", func(d *screenDriver) { d.login(testPassword) }},
	{"devices", func(d *screenDriver) { d.up.devices = fakeDevices(); d.login(testPassword); d.tap(IDDevices) }},
	{"devices-none", func(d *screenDriver) { d.login(testPassword); d.tap(IDDevices) }},
	{"remove-device", func(d *screenDriver) {
		d.up.devices = fakeDevices()
		d.login(testPassword)
		d.tap(IDDevices)
		d.tap(IDRemoveDevice + "1")
	}},
	{"devices-removed", func(d *screenDriver) {
		d.up.devices = fakeDevices()
		d.login(testPassword)
		d.tap(IDDevices)
		d.tap(IDRemoveDevice + "1")
		d.tap(IDConfirm)
	}},
	{"bind", func(d *screenDriver) {
		d.login(testPassword)
		d.tap(IDBind)
		d.Clock.T = d.Clock.T.Add(83 * time.Second) // the countdown shows 3:37
		d.do(Tick{})
	}},
	{"bind-sms", func(d *screenDriver) {
		d.login(testPassword)
		d.tap(IDBindSMS)
		d.do(Tick{})
	}},
	{"bind-expired", func(d *screenDriver) {
		d.up.bindStatus = BindingExpired
		d.login(testPassword)
		d.tap(IDBind)
		d.do(Tick{})
	}},
	{"linked", func(d *screenDriver) {
		d.up.bindStatus = BindingLinked
		d.login(testPassword)
		d.tap(IDBind)
		d.do(Tick{})
	}},
	{"change-password", func(d *screenDriver) {
		d.login(testPassword)
		d.tap(IDChangePassword)
		d.fill(FieldCurrentPassword, testPassword)
		d.fill(FieldNewPassword, "Xyz98#ab")
	}},
	{"change-password-same", func(d *screenDriver) {
		d.login(testPassword)
		d.tap(IDChangePassword)
		d.fill(FieldCurrentPassword, testPassword)
		d.fill(FieldNewPassword, testPassword)
		d.fill(FieldNewPassword2, testPassword)
		d.tap(IDSubmit)
	}},
	{"change-password-wrong", func(d *screenDriver) {
		d.login(testPassword)
		d.tap(IDChangePassword)
		d.fill(FieldCurrentPassword, "Wrong1!x")
		d.fill(FieldNewPassword, "Xyz98#ab")
		d.fill(FieldNewPassword2, "Xyz98#ab")
		d.tap(IDSubmit)
	}},
	{"password-changed", func(d *screenDriver) {
		d.login(testPassword)
		d.tap(IDChangePassword)
		d.fill(FieldCurrentPassword, testPassword)
		d.fill(FieldNewPassword, "Xyz98#ab")
		d.fill(FieldNewPassword2, "Xyz98#ab")
		d.tap(IDSubmit)
	}},
	{"account-contact", func(d *screenDriver) {
		d.up.contact = fakeContact()
		d.login(testPassword)
		d.tap(IDContact)
	}},
	{"account-contact-error", func(d *screenDriver) {
		d.up.contact = fakeContact()
		d.login(testPassword)
		d.tap(IDContact)
		d.fill(FieldMobile, "0812")
		d.tap(IDSubmit)
	}},
	{"confirm-email", func(d *screenDriver) {
		d.up.contact = fakeContact()
		d.login(testPassword)
		d.tap(IDContact)
		d.fill(FieldEmail, "new.one@example.com")
		d.tap(IDSubmit)
	}},
	{"confirm-email-bad-code", func(d *screenDriver) {
		d.up.contact = fakeContact()
		d.login(testPassword)
		d.tap(IDContact)
		d.fill(FieldEmail, "new.one@example.com")
		d.tap(IDSubmit)
		d.fill(FieldCode, "654321")
		d.tap(IDSubmit)
	}},
	{"email-changed", func(d *screenDriver) {
		d.up.contact = fakeContact()
		d.login(testPassword)
		d.tap(IDContact)
		d.fill(FieldEmail, "new.one@example.com")
		d.tap(IDSubmit)
		d.fill(FieldCode, "123456")
		d.tap(IDSubmit)
	}},
	{"devices-not-found", func(d *screenDriver) {
		d.up.devices = fakeDevices()
		d.login(testPassword)
		d.tap(IDDevices)
		d.up.devices = d.up.devices[:1]
		d.tap(IDRemoveDevice + "1")
		d.tap(IDConfirm)
	}},
}

// TestGoldenAccountScreens renders the account services' screens in both
// languages at both panel sizes, compares them with testdata/, and checks
// that no text is clipped or overlaps.
func TestGoldenAccountScreens(t *testing.T) {
	goldenStates(t, accountStates)
}

// TestAccountJourneyOnScreen logs in, lists and removes a device by
// tapping and typing on the screen, then pulls the card.
func TestAccountJourneyOnScreen(t *testing.T) {
	d := newScreenDriver(t, image.Pt(800, 480), LangEn)
	d.up.devices = fakeDevices()
	d.login(testPassword)
	d.wantScreen(ScreenAccount)
	d.tap(IDDevices)
	d.wantScreen(ScreenDevices)
	d.tap(IDRemoveDevice + "0")
	d.wantScreen(ScreenRemoveDevice)
	d.tap(IDConfirm)
	d.wantScreen(ScreenDevices)
	if len(d.up.devices) != 1 {
		t.Fatalf("%d devices left, want 1", len(d.up.devices))
	}
	d.do(CardRemoved{})
	d.wantScreen(ScreenRemoved)
}
