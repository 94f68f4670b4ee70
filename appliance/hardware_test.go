package appliance

import (
	"image"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestHardwareMissing: a missing reader or touch device puts the kiosk out
// of service between sessions, held independently of maintenance and the
// case, and it clears by itself when the device returns.
func TestHardwareMissing(t *testing.T) {
	for _, tt := range []struct {
		name string
		evs  []Event
		want ScreenID
	}{
		{"no reader", []Event{Hardware{NoReader: true}}, ScreenOutOfService},
		{"no touch", []Event{Hardware{NoTouch: true}}, ScreenOutOfService},
		{"reader back", []Event{Hardware{NoReader: true}, Hardware{}}, ScreenAttract},
		{"touch back, reader gone", []Event{Hardware{NoTouch: true}, Hardware{NoReader: true}}, ScreenOutOfService},
		{"back while in maintenance", []Event{Maintenance{On: true}, Hardware{NoReader: true}, Hardware{}}, ScreenOutOfService},
		{"maintenance ends, reader still gone", []Event{Maintenance{On: true}, Hardware{NoReader: true}, Maintenance{On: false}}, ScreenOutOfService},
		{"case closed, touch still gone", []Event{Tamper{Open: true}, Hardware{NoTouch: true}, Tamper{Open: false}}, ScreenOutOfService},
		{"all clear", []Event{Tamper{Open: true}, Hardware{NoTouch: true}, Tamper{Open: false}, Hardware{}}, ScreenAttract},
		{"from help", []Event{Tap{ID: IDHelp}, Hardware{NoTouch: true}}, ScreenOutOfService},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t)
			d.do(tt.evs...)
			d.wantScreen(tt.want)
			d.do(CardInserted{}) // refused out of service, served otherwise
			if tt.want == ScreenAttract {
				d.wantScreen(ScreenMenu)
			} else {
				d.wantScreen(ScreenOutOfService)
			}
		})
	}
}

// A touch device lost mid-session does not end the session (it may come
// back within the idle timeout); the kiosk goes out of service when the
// session ends, and back when touch returns.
func TestHardwareMissingMidSession(t *testing.T) {
	d := newDriver(t)
	d.do(CardInserted{})
	d.wantScreen(ScreenMenu)
	d.do(Hardware{NoTouch: true})
	d.wantScreen(ScreenMenu)
	if d.m.SessionID() == "" {
		t.Fatal("the session ended when touch went")
	}
	d.do(Hardware{}) // the panel's cable pushed back in
	d.wantScreen(ScreenMenu)
	d.do(Hardware{NoTouch: true}, CardRemoved{})
	d.wantScreen(ScreenRemoved)
	d.advance(5 * time.Second)
	d.wantScreen(ScreenOutOfService)
	d.do(Hardware{})
	d.wantScreen(ScreenAttract)
	if !strings.Contains(d.logs.String(), `"msg":"hardware","no_reader":false,"no_touch":true`) {
		t.Errorf("no hardware line in the log:\n%s", d.logs.String())
	}
}

// TestHardwareObserved: the panel and fleet see what is missing.
func TestHardwareObserved(t *testing.T) {
	d := newScreenDriver(t, image.Pt(800, 480), LangEn)
	var got []State
	d.k.Observe(func(s State) { got = append(got, s) })
	d.do(Hardware{NoReader: true}, Hardware{NoReader: true, NoTouch: true}, Hardware{})
	want := []State{
		{Screen: ScreenAttract},
		{Screen: ScreenOutOfService, Hardware: Hardware{NoReader: true}},
		{Screen: ScreenOutOfService, Hardware: Hardware{NoReader: true, NoTouch: true}},
		{Screen: ScreenAttract},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("observed states (-want +got):\n%s", diff)
	}
}

// The page of a missing device is in both languages whatever the kiosk's,
// has no language switch (nobody could tap it without touch), and changes
// with what is missing.
func TestHardwarePage(t *testing.T) {
	d := newScreenDriver(t, image.Pt(800, 480), LangEn)
	d.do(Hardware{NoTouch: true})
	txt := texts(d)
	for _, want := range []string{"暫停服務 · Out of service", "觸控螢幕無法使用，請洽服務人員協助。", "Please ask a member of staff for help.", "Staff: check the touch screen's cable."} {
		if !strings.Contains(txt, want) {
			t.Errorf("no-touch page lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "card reader") || d.UI.Find(IDLangZh) != nil || d.UI.Find(IDLangEn) != nil {
		t.Errorf("no-touch page speaks of the reader or has a language switch:\n%s", txt)
	}
	d.do(Hardware{NoTouch: true, NoReader: true})
	if txt := texts(d); !strings.Contains(txt, "讀卡機") || !strings.Contains(txt, "No card reader is connected") {
		t.Errorf("page with both missing lacks the reader:\n%s", txt)
	}
}

func texts(d *screenDriver) string {
	d.Step()
	var b strings.Builder
	for _, r := range d.UI.Audit() {
		b.WriteString(r.Text)
		b.WriteByte('\n')
	}
	return b.String()
}
