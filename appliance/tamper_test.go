package appliance

import (
	"image"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestTamperAtEveryStep opens the case at every step of a session: the
// session ends at once with its data zeroed, out-of-service shows and
// refuses cards, and closing the case brings the attract screen back.
func TestTamperAtEveryStep(t *testing.T) {
	for _, st := range everyStep {
		t.Run(string(st.screen), func(t *testing.T) {
			d := newDriver(t)
			st.reach(d)
			d.wantScreen(st.screen)
			p := d.m.sess.p
			owned := [][]byte{p.card.IDNumber, p.card.Name, p.fields[FieldHousehold], p.fields[FieldPassword], p.fields[FieldEmail], p.fields[FieldCode]}
			d.do(Tamper{Open: true})
			if d.m.SessionID() != "" {
				t.Fatalf("session survives the case opening")
			}
			for i, b := range owned {
				for _, c := range b {
					if c != 0 {
						t.Fatalf("owned slice %d not zeroed", i)
					}
				}
			}
			d.wantScreen(ScreenOutOfService)
			d.do(CardRemoved{}, CardInserted{})
			d.advance(10 * time.Second)
			d.wantScreen(ScreenOutOfService)
			d.do(Tamper{Open: false})
			d.wantScreen(ScreenAttract)
			if !strings.Contains(d.logs.String(), `"reason":"tamper"`) {
				t.Errorf("no session-ended line with reason tamper in the log")
			}
		})
	}
}

// TestTamperAndMaintenance checks that the two causes of out-of-service
// hold it independently: the kiosk comes back only when both are gone.
func TestTamperAndMaintenance(t *testing.T) {
	tests := []struct {
		name string
		evs  []Event
		want ScreenID
	}{
		{"tamper only", []Event{Tamper{Open: true}}, ScreenOutOfService},
		{"tamper then closed", []Event{Tamper{Open: true}, Tamper{Open: false}}, ScreenAttract},
		{"maintenance ends while open", []Event{Maintenance{On: true}, Tamper{Open: true}, Maintenance{On: false}}, ScreenOutOfService},
		{"closed while in maintenance", []Event{Maintenance{On: true}, Tamper{Open: true}, Tamper{Open: false}}, ScreenOutOfService},
		{"both gone", []Event{Maintenance{On: true}, Tamper{Open: true}, Tamper{Open: false}, Maintenance{On: false}}, ScreenAttract},
		{"closed twice", []Event{Tamper{Open: false}, Tamper{Open: false}}, ScreenAttract},
	}
	for _, tt := range tests {
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

// TestKioskObserve follows the state an observer sees across attract →
// session → tamper → attract, drawn on a real display.
func TestKioskObserve(t *testing.T) {
	d := newScreenDriver(t, image.Pt(800, 480), LangEn)
	var got []State
	d.k.Observe(func(s State) { got = append(got, s) })
	d.do(CardInserted{})
	d.wantScreen(ScreenMenu)
	d.do(Tick{}) // no change: not reported again
	d.do(Tamper{Open: true}, Tamper{Open: false})
	want := []State{
		{Screen: ScreenAttract},
		{Screen: ScreenReading, Session: true},
		{Screen: ScreenMenu, Session: true},
		{Screen: ScreenOutOfService, Closed: true},
		{Screen: ScreenAttract},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("observed states (-want +got):\n%s", diff)
	}
}
