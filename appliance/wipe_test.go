package appliance

import (
	"image"
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
)

// TestWipeLeavesNothingOnScreen fills in the whole registration on the
// on-screen keyboards, pulls the card on the review, and checks that no
// text drawn, no field and no pixel of the frame keeps anything of the
// person: the frame is identical to the same screen in a kiosk that never
// saw them.
func TestWipeLeavesNothingOnScreen(t *testing.T) {
	size := image.Pt(800, 480)
	d := newScreenDriver(t, size, LangZhTW)
	d.register(ScreenReview)
	fields := make([]*display.Field, 0, len(d.k.v.fields))
	for _, w := range d.k.v.fields {
		fields = append(fields, w)
	}
	var seen bool
	for _, r := range d.UI.Audit() {
		seen = seen || strings.Contains(r.Text, testName)
	}
	if !seen {
		t.Fatalf("the review does not show the name: the check below would prove nothing")
	}
	d.do(CardRemoved{})
	d.wantScreen(ScreenRemoved)
	for _, r := range d.UI.Audit() {
		for _, pii := range []string{testName, testEmail, testHousehold, "A12", testCard, "0912345678"} {
			if strings.Contains(r.Text, pii) {
				t.Errorf("after the wipe %s still draws %q", r.Widget, r.Text)
			}
		}
	}
	for _, w := range fields {
		if w.Len() != 0 {
			t.Errorf("field %s of the old page still holds %d characters", w.ID(), w.Len())
		}
	}
	got := d.PNG()
	fresh := newScreenDriver(t, size, LangZhTW)
	fresh.register(ScreenCard)
	fresh.do(CardRemoved{})
	if diff := displaytest.Diff(fresh.PNG(), got); diff != "" {
		t.Errorf("frame after the wipe differs from a fresh kiosk's: %s", diff)
	}
}

// TestTypingReachesTheMachine checks that the on-screen keyboard's
// characters end up, normalised, in the session, and errors come back
// under the field as the person types.
func TestTypingReachesTheMachine(t *testing.T) {
	d := newScreenDriver(t, image.Pt(800, 480), LangEn)
	d.register(ScreenHousehold)
	d.Tap("field.household")
	d.Type("f12")
	if got := d.k.m.sess.p.value(FieldHousehold); got != "F12" {
		t.Errorf("household in the session = %q, want F12", got)
	}
	if got := string(d.k.v.fields[FieldHousehold].Value()); got != "F12" {
		t.Errorf("household on screen = %q, want the capitals F12", got)
	}
	d.Type("-x5678")
	if got := d.k.m.sess.p.value(FieldHousehold); got != "F12X5678" {
		t.Errorf("household = %q, want F12X5678 (the - refused)", got)
	}
	if e := d.k.v.fields[FieldHousehold].Error; e.Key != "err.household.format" {
		t.Errorf("error under the field = %+v, want err.household.format", e)
	}
}

// TestMicrosoftWarningWhileTyping types a hotmail address on the keyboard:
// the warning appears as soon as the domain is typed (a new page), and
// the field keeps its value and the keyboard.
func TestMicrosoftWarningWhileTyping(t *testing.T) {
	d := newScreenDriver(t, image.Pt(800, 480), LangEn)
	d.register(ScreenContact)
	d.Tap("field.email")
	d.Type("test.one@hotmail.com")
	if d.UI.Find("email.ms_warning") == nil {
		t.Errorf("no Microsoft mail warning after typing a hotmail address")
	}
	f := d.UI.Focus()
	if f == nil || f.ID() != "field.email" {
		t.Fatalf("the e-mail field lost the keyboard")
	}
	if got := string(f.Value()); got != "test.one@hotmail.com" {
		t.Errorf("field shows %q", got)
	}
	if got := d.k.m.sess.p.value(FieldEmail); got != "test.one@hotmail.com" {
		t.Errorf("session holds %q", got)
	}
}
