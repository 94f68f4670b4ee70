package appliance

import (
	"testing"
	"time"
)

// everyStep lists a way to reach each screen a session can be on.
var everyStep = []struct {
	screen ScreenID
	reach  func(d *driver)
}{
	{ScreenMenu, func(d *driver) { d.toMenu() }},
	{ScreenTerms, func(d *driver) { d.registerTo(ScreenTerms) }},
	{ScreenCard, func(d *driver) { d.registerTo(ScreenCard) }},
	{ScreenHousehold, func(d *driver) { d.registerTo(ScreenHousehold); d.typeIn(FieldHousehold, "F12") }},
	{ScreenAddress, func(d *driver) { d.registerTo(ScreenAddress); d.tap("county.63000") }},
	{ScreenPassword, func(d *driver) { d.registerTo(ScreenPassword); d.typeIn(FieldPassword, testPassword) }},
	{ScreenContact, func(d *driver) { d.registerTo(ScreenContact); d.typeIn(FieldEmail, testEmail) }},
	{ScreenReview, func(d *driver) { d.registerTo(ScreenReview) }},
	{ScreenReceipt, func(d *driver) { d.registerTo(ScreenReview); d.tap(IDSubmit) }},
	{ScreenVerify, func(d *driver) { d.toMenu(); d.tap(IDVerify); d.typeIn(FieldCode, "12") }},
	{ScreenResend, func(d *driver) { d.toMenu(); d.tap(IDResend) }},
	{ScreenForgot, func(d *driver) { d.toMenu(); d.tap(IDForgot) }},
	{ScreenReset, func(d *driver) { d.toMenu(); d.tap(IDForgot, IDSubmit); d.typeIn(FieldPassword, "Xyz98#ab") }},
	{ScreenDelete, func(d *driver) { d.toMenu(); d.tap(IDDelete); d.typeIn(FieldPassword, testPassword) }},
	{ScreenResult, func(d *driver) { d.toMenu(); d.tap(IDResend, IDSubmit) }},
	{ScreenError, func(d *driver) {
		d.up.errs["Resend"] = &UpstreamError{Kind: KindLocked}
		d.toMenu()
		d.tap(IDResend, IDSubmit)
	}},
	{ScreenHelp, func(d *driver) { d.toMenu(); d.tap(IDCardHelp) }},
}

func TestCardRemovedAtEveryStep(t *testing.T) {
	for _, st := range everyStep {
		t.Run(string(st.screen), func(t *testing.T) {
			d := newDriver(t)
			st.reach(d)
			d.wantScreen(st.screen)
			p := d.m.sess.p
			owned := [][]byte{p.card.IDNumber, p.card.Name, p.fields[FieldHousehold], p.fields[FieldPassword], p.fields[FieldEmail], p.fields[FieldCode]}
			completed := d.m.sess.completed
			d.do(CardRemoved{})
			if d.m.SessionID() != "" {
				t.Fatalf("session survives card removal")
			}
			for i, b := range owned {
				for _, c := range b {
					if c != 0 {
						t.Fatalf("owned slice %d not zeroed", i)
					}
				}
			}
			if len(p.fields) != 0 || p.card.Name != nil {
				t.Errorf("person keeps references after the wipe")
			}
			if completed {
				d.wantScreen(ScreenAttract)
				return
			}
			d.wantScreen(ScreenRemoved)
			d.advance(3 * time.Second)
			d.wantScreen(ScreenRemoved)
			d.advance(time.Second)
			d.wantScreen(ScreenAttract)
		})
	}
}

func TestIdleTimeoutAtEveryStep(t *testing.T) {
	for _, st := range everyStep {
		t.Run(string(st.screen), func(t *testing.T) {
			d := newDriver(t)
			d.m.lang = LangEn
			st.reach(d)
			p := d.m.sess.p
			d.advance(59 * time.Second)
			if on, _ := d.m.Warning(); on {
				t.Fatalf("warning before the idle timeout")
			}
			d.advance(time.Second)
			on, left := d.m.Warning()
			if !on || left != 20 {
				t.Fatalf("Warning() = %v, %d; want true, 20", on, left)
			}
			d.do(Key{Text: "1"}) // typing does not go through the warning
			d.tap(IDContinue)
			if on, _ := d.m.Warning(); on {
				t.Fatalf("continue did not dismiss the warning")
			}
			d.wantScreen(st.screen)
			d.advance(60 * time.Second)
			d.advance(19 * time.Second)
			if _, left := d.m.Warning(); left != 1 {
				t.Errorf("countdown left = %d, want 1", left)
			}
			d.wantScreen(st.screen)
			d.advance(time.Second)
			d.wantScreen(ScreenAttract)
			if d.m.SessionID() != "" || len(p.fields) != 0 || p.card.IDNumber != nil {
				t.Errorf("idle timeout left the session or its data")
			}
			if d.m.Lang() != LangZhTW {
				t.Errorf("attract in %s, want the kiosk's zh-TW", d.m.Lang())
			}
		})
	}
}

func TestMaxDuration(t *testing.T) {
	d := newDriver(t)
	d.toMenu()
	for range 25 {
		d.now = d.now.Add(50 * time.Second)
		d.tap("nothing") // keeps touching
		d.do(Tick{})
	}
	d.wantScreen(ScreenAttract)
}

func TestMaintenance(t *testing.T) {
	d := newDriver(t)
	d.toMenu()
	d.do(Maintenance{On: true})
	d.wantScreen(ScreenMenu) // the session goes on
	d.do(CardRemoved{})
	d.advance(5 * time.Second)
	d.wantScreen(ScreenOutOfService)
	d.do(CardInserted{})
	d.wantScreen(ScreenOutOfService)
	d.do(Maintenance{On: false})
	d.wantScreen(ScreenAttract)
}

func TestStaleJobResultIgnored(t *testing.T) {
	d := newDriver(t)
	d.registerTo(ScreenReview)
	jobs := d.m.Handle(Tap{ID: IDSubmit})
	d.do(CardRemoved{})
	d.run(jobs) // the answer arrives after the card left
	d.wantScreen(ScreenRemoved)
	if d.m.SessionID() != "" {
		t.Errorf("stale result revived a session")
	}
}

// TestCardReadAfterRemovalIsWiped: the card is pulled while it is being
// read; the profile that comes back belongs to no session and is zeroed.
func TestCardReadAfterRemovalIsWiped(t *testing.T) {
	d := newDriver(t)
	jobs := d.m.Handle(CardInserted{})
	d.do(CardRemoved{})
	d.run(jobs) // the read finishes after the card left
	if d.m.SessionID() != "" {
		t.Fatalf("a late card read revived a session")
	}
	for _, b := range [][]byte{d.card.last.IDNumber, d.card.last.Name, d.card.last.CardNumber} {
		if len(b) == 0 {
			t.Fatalf("the card was not read")
		}
		for _, c := range b {
			if c != 0 {
				t.Fatalf("the late profile was not zeroed")
			}
		}
	}
}

func TestDefaultLanguage(t *testing.T) {
	d := newDriver(t)
	d.do(DefaultLanguage{Lang: LangEn})
	if d.m.Lang() != LangEn {
		t.Errorf("attract in %s, want en at once", d.m.Lang())
	}
	d.toMenu()
	d.tap(IDLangZh)
	d.do(DefaultLanguage{Lang: "fr"}, DefaultLanguage{Lang: LangEn})
	if d.m.Lang() != LangZhTW {
		t.Errorf("the session's language changed under the person")
	}
	d.do(CardRemoved{})
	d.advance(5 * time.Second)
	if d.m.Lang() != LangEn {
		t.Errorf("attract after the session in %s, want the new default en", d.m.Lang())
	}
}
