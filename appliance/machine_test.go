package appliance

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// toMenu inserts the card and reads it.
func (d *driver) toMenu() {
	d.t.Helper()
	d.do(CardInserted{})
	d.wantScreen(ScreenMenu)
}

// registerTo walks the registration up to screen stop (inclusive).
func (d *driver) registerTo(stop ScreenID) {
	d.t.Helper()
	d.toMenu()
	steps := []struct {
		screen ScreenID
		fill   func()
	}{
		{ScreenTerms, func() { d.do(ScrolledToEnd{}); d.tap(IDAgree) }},
		{ScreenCard, func() { d.tap(IDNext) }},
		{ScreenHousehold, func() { d.typeIn(FieldHousehold, testHousehold); d.tap(IDNext) }},
		{ScreenAddress, func() {
			d.tap("county.63000", "township.63000050", "village.6300005001")
			d.typeIn(FieldNeighbourhood, "12")
			d.tap(IDNext)
		}},
		{ScreenPassword, func() {
			d.typeIn(FieldPassword, testPassword)
			d.typeIn(FieldPassword2, testPassword)
			d.tap(IDNext)
		}},
		{ScreenContact, func() {
			d.typeIn(FieldPhoneArea, "02")
			d.typeIn(FieldPhoneNumber, "27065866")
			d.typeIn(FieldMobile, "0912345678")
			d.typeIn(FieldEmail, testEmail)
			d.tap(IDNext)
		}},
		{ScreenReview, func() { d.tap(IDSubmit) }},
	}
	d.tap(IDRegister)
	for _, st := range steps {
		d.wantScreen(st.screen)
		if st.screen == stop {
			return
		}
		st.fill()
	}
}

func TestRegisterHappyPath(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenReview)
	p := d.m.sess.p
	owned := [][]byte{p.card.IDNumber, p.card.Name, p.card.CardNumber, p.fields[FieldPassword], p.fields[FieldEmail]}
	d.tap(IDSubmit)
	d.wantScreen(ScreenReceipt)
	if len(d.up.registered) != 1 {
		t.Fatalf("upstream got %d registrations, want 1", len(d.up.registered))
	}
	got := d.up.registered[0]
	want := Registration{TermsVersion: "2026-01", Lang: LangZhTW,
		Identity: Identity{IDNumber: testID, CardNumber: testCard}, Name: testName, BirthDate: "1970-01-01",
		Household: testHousehold, CountyCode: "63000", TownshipCode: "63000050", VillageCode: "6300005001",
		Neighbourhood: 12, Password: testPassword, PhoneArea: "02", PhoneNumber: "27065866",
		Mobile: "0912345678", Email: testEmail}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("registration (-want +got):\n%s", diff)
	}
	if r := flowOf[*registration](t, d.m); r.reference != "R-0001" || r.queued {
		t.Errorf("receipt = %q queued %v, want R-0001 not queued", r.reference, r.queued)
	}
	// Completion wipes: every byte slice the session owned is zero.
	for i, b := range owned {
		for _, c := range b {
			if c != 0 {
				t.Fatalf("owned slice %d not zeroed after completion", i)
			}
		}
	}
	if len(d.m.sess.p.fields) != 0 || d.m.sess.p.card.IDNumber != nil {
		t.Errorf("person not emptied after completion")
	}
	d.do(CardRemoved{})
	d.wantScreen(ScreenAttract)
	if d.m.SessionID() != "" {
		t.Errorf("session %q still there after the card left", d.m.SessionID())
	}
}

func TestTermsNeedScrollToEnd(t *testing.T) {
	d := newDriver(t)
	d.toMenu()
	d.tap(IDRegister, IDAgree)
	d.wantScreen(ScreenTerms)
	d.do(ScrolledToEnd{})
	d.tap(IDLangEn) // switching language: read it again
	d.tap(IDAgree)
	d.wantScreen(ScreenTerms)
	d.do(ScrolledToEnd{})
	d.tap(IDAgree)
	d.wantScreen(ScreenCard)
	if got := flowOf[*registration](t, d.m).termsAccepted; got != "2026-01" {
		t.Errorf("accepted terms version = %q, want 2026-01", got)
	}
}

func TestBuiltinTermsWhenUpstreamDown(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Terms"] = ErrUnavailable
	d.toMenu()
	d.tap(IDRegister)
	if got := flowOf[*registration](t, d.m).text(d.m.wizard()); got != builtinTerms(LangZhTW).Text {
		t.Errorf("terms text = %.40q…, want the built-in copy", got)
	}
	d.do(ScrolledToEnd{})
	d.tap(IDAgree)
	if got := flowOf[*registration](t, d.m).termsAccepted; got != BuiltinTermsVersion {
		t.Errorf("accepted version = %q, want %q", got, BuiltinTermsVersion)
	}
}

func TestValidationAsTyped(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenHousehold)
	d.typeIn(FieldHousehold, "12345678")
	if got := d.errs()[FieldHousehold]; got != "format" {
		t.Errorf("household 12345678: error %q, want format", got)
	}
	d.typeIn(FieldHousehold, "f12345-67") // lower case becomes upper, symbols are refused
	if got := d.m.sess.p.value(FieldHousehold); got != "F1234567" {
		t.Errorf("household typed = %q, want F1234567", got)
	}
	d.typeIn(FieldHousehold, "F123")
	d.tap(IDNext)
	d.wantScreen(ScreenHousehold)
	if got := d.errs()[FieldHousehold]; got != "length" {
		t.Errorf("household F123 on next: error %q, want length", got)
	}
	d.typeIn(FieldHousehold, testHousehold+"99") // the ninth character is refused
	if got := d.m.sess.p.value(FieldHousehold); got != testHousehold {
		t.Errorf("household = %q, want 8 characters kept", got)
	}
	d.do(Key{Text: KeyBackspace})
	if got := d.errs()[FieldHousehold]; got != "length" {
		t.Errorf("after backspace: error %q, want length", got)
	}
}

func TestPasswordScreen(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenPassword)
	d.typeIn(FieldPassword, testPassword)
	d.typeIn(FieldPassword2, "Abc12!x")
	d.tap(IDNext)
	d.wantScreen(ScreenPassword)
	if got := d.errs()[FieldPassword2]; got != codeMismatch {
		t.Errorf("confirmation error %q, want %q", got, codeMismatch)
	}
	if d.m.sess.focus != FieldPassword2 {
		t.Errorf("focus = %s, want the failing field", d.m.sess.focus)
	}
}

func TestAddressNeedsEveryLevel(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenAddress)
	d.tap("county.63000", "township.63000050")
	d.typeIn(FieldNeighbourhood, "5")
	d.tap(IDNext)
	d.wantScreen(ScreenAddress)
	if got := d.errs()[FieldAddress]; got != "required" {
		t.Errorf("address without village: error %q, want required", got)
	}
	d.tap("village.6300005001")
	if _, ok := d.errs()[FieldAddress]; ok {
		t.Errorf("address error stays after the village was picked")
	}
	d.tap(IDChangeCounty)
	if p := d.m.sess.p; p.county != "63000" || p.township != "63000050" || p.village != "6300005001" {
		t.Errorf("opening the counties again forgot what was chosen: %q %q %q", p.county, p.township, p.village)
	}
	d.tap("county.99999") // not in the list
	if d.m.sess.p.county != "63000" {
		t.Errorf("unknown county accepted")
	}
	d.tap("county.63000") // the same: everything kept
	if p := d.m.sess.p; p.township != "63000050" || p.village != "6300005001" {
		t.Errorf("choosing the same county again forgot township/village")
	}
	d.tap(IDChangeCounty, "county.68000") // another: what was under it goes
	if p := d.m.sess.p; p.county != "68000" || p.township != "" || p.village != "" {
		t.Errorf("another county kept township/village: %q %q %q", p.county, p.township, p.village)
	}
}

// TestAddressBackOneLevel: back goes up one level at a time, keeping
// every choice, and leaves the screen only from the counties.
func TestAddressBackOneLevel(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenAddress)
	d.tap("county.63000", "township.63000050", "village.6300005001")
	r := flowOf[*registration](t, d.m)
	for _, want := range []string{levelVillage, levelTownship, levelCounty} {
		d.tap(IDBack)
		d.wantScreen(ScreenAddress)
		if got := r.level(d.m.wizard()); got != want {
			t.Errorf("after back: level %q, want %q", got, want)
		}
		if p := d.m.sess.p; p.county != "63000" || p.township != "63000050" || p.village != "6300005001" {
			t.Errorf("back forgot a choice: %q %q %q", p.county, p.township, p.village)
		}
	}
	d.tap("village.6300005002") // not the open level
	if d.m.sess.p.village != "6300005001" {
		t.Errorf("a village taken while the counties show")
	}
	d.tap(IDBack)
	d.wantScreen(ScreenHousehold)
	d.tap(IDNext)
	d.wantScreen(ScreenAddress)
	if got := r.level(d.m.wizard()); got != "" {
		t.Errorf("address again: level %q, want the neighbourhood", got)
	}
}

func TestListWithoutLevelSkipsIt(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenAddress)
	d.tap("county.65000") // no townships in this list
	d.typeIn(FieldNeighbourhood, "3")
	d.tap(IDNext)
	d.wantScreen(ScreenPassword)
}

func TestBuiltinDivisionsWhenUpstreamDown(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Divisions"] = ErrUnavailable
	d.m = NewMachine(d.m.opt)
	d.run(d.m.Start())
	d.registerTo(ScreenAddress)
	d.tap("county.65000", "township.65000010", "village.65000010126") // 新北市板橋區歡園里
	d.typeIn(FieldNeighbourhood, "3")
	d.tap(IDNext)
	d.wantScreen(ScreenPassword)
	r := flowOf[*registration](t, d.m).registration(d.m.wizard())
	if r.CountyCode != "65000" || r.TownshipCode != "65000010" || r.VillageCode != "65000010126" || r.Neighbourhood != 3 {
		t.Errorf("address = %s %s %s %d", r.CountyCode, r.TownshipCode, r.VillageCode, r.Neighbourhood)
	}
}

func TestReviewEditReturnsToReview(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenReview)
	d.tap(IDEditContact)
	d.wantScreen(ScreenContact)
	d.typeIn(FieldBackupEmail, "backup@example.org")
	d.tap(IDNext)
	d.wantScreen(ScreenReview)
	d.tap(IDEditHousehold, IDBack)
	d.wantScreen(ScreenReview)
}

func TestUpstreamDownQueuesInOutbox(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Register"] = ErrUnavailable
	d.registerTo(ScreenReview)
	d.tap(IDSubmit)
	d.wantScreen(ScreenReceipt)
	if queued := flowOf[*registration](t, d.m).queued; len(d.up.outbox) != 1 || !queued {
		t.Errorf("queued %d, session queued %v; want one queued", len(d.up.outbox), queued)
	}
}

func TestUpstreamAndOutboxDown(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Register"] = ErrUnavailable
	d.up.outboxDown = true
	d.registerTo(ScreenReview)
	d.tap(IDSubmit)
	d.wantScreen(ScreenError)
	if d.m.sess.errKind != KindUnavailable {
		t.Errorf("error kind = %q, want %q", d.m.sess.errKind, KindUnavailable)
	}
	d.tap(IDMenu)
	d.wantScreen(ScreenMenu)
}

func TestUpstreamFieldErrorsGoToTheirStep(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Register"] = &UpstreamError{Kind: KindInvalid, Fields: []FieldProblem{{Field: FieldEmail, Code: "domain"}}}
	d.registerTo(ScreenReview)
	d.tap(IDSubmit)
	d.wantScreen(ScreenContact)
	if got := d.errs()[FieldEmail]; got != "domain" {
		t.Errorf("email error = %q, want domain", got)
	}
	if d.m.sess.focus != FieldEmail {
		t.Errorf("focus = %q, want email", d.m.sess.focus)
	}
	d.up.errs["Register"] = nil
	d.typeIn(FieldEmail, "test.two@example.com")
	d.tap(IDNext)
	d.wantScreen(ScreenReview)
	d.tap(IDSubmit)
	d.wantScreen(ScreenReceipt)
}

func TestAlreadyRegisteredOffersNextStep(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Register"] = &UpstreamError{Kind: KindAlreadyRegistered}
	d.registerTo(ScreenReview)
	d.tap(IDSubmit)
	d.wantScreen(ScreenError)
	d.tap(IDVerify)
	d.wantScreen(ScreenVerify)
	if d.m.sess.p.value(FieldPassword) != "" {
		t.Errorf("the registration's password survived leaving the flow")
	}
}

func TestVerify(t *testing.T) {
	d := newDriver(t)
	d.toMenu()
	d.tap(IDVerify)
	d.typeIn(FieldCode, "12345")
	d.tap(IDSubmit)
	d.wantScreen(ScreenVerify)
	if got := d.errs()[FieldCode]; got != "length" {
		t.Errorf("5-digit code: error %q, want length", got)
	}
	d.typeIn(FieldCode, "654321")
	d.tap(IDSubmit)
	d.wantScreen(ScreenVerify)
	if got := d.errs()[FieldCode]; got != KindBadCode {
		t.Errorf("wrong code: error %q, want %q", got, KindBadCode)
	}
	d.typeIn(FieldCode, "123456")
	d.tap(IDSubmit)
	d.wantScreen(ScreenResult)
	if d.m.sess.resultKey != "result.verified" || !d.m.sess.completed {
		t.Errorf("result %q completed %v", d.m.sess.resultKey, d.m.sess.completed)
	}
	d.tap(IDFinish)
	d.wantScreen(ScreenAttract)
}

func TestResendForgotDelete(t *testing.T) {
	d := newDriver(t)
	d.toMenu()
	d.tap(IDResend, IDSubmit)
	d.wantScreen(ScreenResult)
	d.tap(IDFinish)
	d.do(CardRemoved{})

	d.toMenu()
	d.tap(IDForgot, IDSubmit)
	d.wantScreen(ScreenReset)
	d.typeIn(FieldCode, "123456")
	d.typeIn(FieldPassword, "Xyz98#ab")
	d.typeIn(FieldPassword2, "Xyz98#ab")
	d.tap(IDSubmit)
	d.wantScreen(ScreenResult)
	d.do(CardRemoved{})
	d.wantScreen(ScreenAttract)

	d.toMenu()
	d.tap(IDDelete)
	d.typeIn(FieldPassword, "Wrong1!x")
	d.tap(IDSubmit)
	d.wantScreen(ScreenDelete)
	if got := d.errs()[FieldPassword]; got != KindWrongPassword {
		t.Errorf("wrong password: error %q", got)
	}
	d.typeIn(FieldPassword, testPassword)
	d.tap(IDSubmit)
	d.wantScreen(ScreenResult)
	want := []string{"Divisions", "Resend", "RequestReset", "ResetPassword", "Cancel", "Cancel"}
	if diff := cmp.Diff(want, d.up.calls); diff != "" {
		t.Errorf("upstream calls (-want +got):\n%s", diff)
	}
}

func TestNotRegisteredError(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Resend"] = &UpstreamError{Kind: KindNotRegistered}
	d.toMenu()
	d.tap(IDResend, IDSubmit)
	d.wantScreen(ScreenError)
	d.tap(IDRegister)
	d.wantScreen(ScreenTerms)
}

func TestCardReadError(t *testing.T) {
	d := newDriver(t)
	d.card.err = errors.New("mute")
	d.m.opt.CardKey = func(error) string { return "card.error.mute" }
	d.do(CardInserted{})
	d.wantScreen(ScreenCardError)
	if d.m.sess.cardErrKey != "card.error.mute" {
		t.Errorf("card error key = %q", d.m.sess.cardErrKey)
	}
	d.tap(IDHelp)
	d.wantScreen(ScreenHelp)
	d.tap(IDBack)
	d.wantScreen(ScreenCardError)
	d.card.err = nil
	d.tap(IDRetry)
	d.wantScreen(ScreenMenu)
}

func TestMaskID(t *testing.T) {
	if got := maskID([]byte(testID)); got != "A12****789" {
		t.Errorf("maskID = %q, want A12****789", got)
	}
}

func TestMicrosoftMail(t *testing.T) {
	for addr, want := range map[string]bool{
		"a@hotmail.com": true, "a@outlook.com.tw": true, "a@live.com": true, "a@msn.com": true,
		"a@mail.live.com": true, "a@example.com": false, "a@olive.com": false,
	} {
		if got := microsoftMail(addr); got != want {
			t.Errorf("microsoftMail(%q) = %v, want %v", addr, got, want)
		}
	}
}

func TestSetFieldTakesOverAndZeroes(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenHousehold)
	first := []byte("F12")
	d.do(SetField{Field: FieldHousehold, Value: first})
	second := []byte("F1234567x")
	d.do(SetField{Field: FieldHousehold, Value: second})
	if string(first) != "\x00\x00\x00" {
		t.Errorf("replaced value not zeroed: %q", first)
	}
	if got := d.m.sess.p.value(FieldHousehold); got != testHousehold {
		t.Errorf("household = %q, want %q (x refused)", got, testHousehold)
	}
	other := []byte("secret")
	d.do(SetField{Field: FieldPassword, Value: other}) // not on this screen
	if string(other) != "\x00\x00\x00\x00\x00\x00" || d.m.sess.p.value(FieldPassword) != "" {
		t.Errorf("a field of another screen was taken")
	}
	d.do(CardRemoved{})
	if string(second[:8]) != "\x00\x00\x00\x00\x00\x00\x00\x00" {
		t.Errorf("value not zeroed by the wipe: %q", second)
	}
}

func TestTermsChangedWhileTyping(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Register"] = &UpstreamError{Kind: KindTermsChanged}
	d.registerTo(ScreenReview)
	d.up.terms[LangZhTW] = Terms{Version: "2026-02", Lang: LangZhTW, Text: "新規範"}
	d.tap(IDSubmit)
	d.wantScreen(ScreenTerms)
	d.up.errs["Register"] = nil
	d.do(ScrolledToEnd{})
	d.tap(IDAgree)
	d.wantScreen(ScreenReview)
	d.tap(IDSubmit)
	d.wantScreen(ScreenReceipt)
	if got := d.up.registered[0].TermsVersion; got != "2026-02" {
		t.Errorf("terms version sent = %q, want the new 2026-02", got)
	}
}
