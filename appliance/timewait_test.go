package appliance

import (
	"image"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/nhikiosk/nhikiosk/display"
)

// TestClockUnknownAtStart: a kiosk started without the time shows out of
// service and refuses cards until the time is known, then attracts and
// serves (issue 21).
func TestClockUnknownAtStart(t *testing.T) {
	d := newDriver(t)
	d.m = NewMachine(Options{Lang: LangZhTW, IdleTimeout: time.Minute, WarningCountdown: 20 * time.Second,
		RemovedScreen: 4 * time.Second, MaxDuration: 20 * time.Minute, Now: func() time.Time { return d.now },
		Log: slog.New(slog.NewJSONHandler(&d.logs, nil)), Card: d.card, Upstream: d.up, ClockUnknown: true})
	d.run(d.m.Start())
	d.wantScreen(ScreenOutOfService)
	d.do(CardInserted{})
	d.advance(10 * time.Second)
	d.wantScreen(ScreenOutOfService)
	d.do(CardRemoved{}, Clock{Known: true})
	d.wantScreen(ScreenAttract)
	d.do(CardInserted{})
	d.wantScreen(ScreenMenu)
}

// TestClockWithOtherCauses: the time, maintenance and the case each hold
// out of service on their own; attract comes back when none does, and a
// session already running is let finish.
func TestClockWithOtherCauses(t *testing.T) {
	tests := []struct {
		name string
		evs  []Event
		want ScreenID
	}{
		{"time lost", []Event{Clock{Known: false}}, ScreenOutOfService},
		{"time back", []Event{Clock{Known: false}, Clock{Known: true}}, ScreenAttract},
		{"time back in maintenance", []Event{Maintenance{On: true}, Clock{Known: false}, Clock{Known: true}}, ScreenOutOfService},
		{"maintenance off while waiting", []Event{Clock{Known: false}, Maintenance{On: true}, Maintenance{On: false}}, ScreenOutOfService},
		{"case closed while waiting", []Event{Clock{Known: false}, Tamper{Open: true}, Tamper{Open: false}}, ScreenOutOfService},
		{"all gone", []Event{Clock{Known: false}, Tamper{Open: true}, Maintenance{On: true}, Tamper{Open: false}, Clock{Known: true}, Maintenance{On: false}}, ScreenAttract},
		{"known twice", []Event{Clock{Known: true}, Clock{Known: true}, CardInserted{}}, ScreenMenu},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDriver(t)
			d.do(tt.evs...)
			d.wantScreen(tt.want)
		})
	}
	t.Run("session finishes", func(t *testing.T) {
		d := newDriver(t)
		d.do(CardInserted{})
		d.wantScreen(ScreenMenu)
		d.do(Clock{Known: false})
		d.wantScreen(ScreenMenu)
		d.tap(IDFinish)
		d.do(CardRemoved{})
		d.wantScreen(ScreenOutOfService)
	})
}

// TestClockScreen: the waiting screen says what it waits for in the
// kiosk's language with the other one below, for staff of either; the
// maintenance screen keeps its own text; observers see out of service.
func TestClockScreen(t *testing.T) {
	for _, lang := range []string{LangZhTW, LangEn} {
		t.Run(lang, func(t *testing.T) {
			d := newScreenDriver(t, image.Pt(800, 480), lang)
			var seen []State
			d.k.Observe(func(s State) { seen = append(seen, s) })
			d.do(Clock{Known: false})
			body := d.Find("out_of_service.body").(*display.Label)
			note := d.Find("out_of_service.note").(*display.Label)
			other := map[string]string{LangZhTW: LangEn, LangEn: LangZhTW}[lang]
			if body.Text.Key != "oos.clock" || note.Text.Lit != d.UI.Catalog().Text(other, "oos.clock") || note.Text.Lit == "" {
				t.Errorf("waiting screen says %+v, then %+v", body.Text, note.Text)
			}
			d.do(Clock{Known: true}, Maintenance{On: true})
			if got := d.Find("out_of_service.body").(*display.Label).Text.Key; got != "oos.body" {
				t.Errorf("maintenance screen says %q", got)
			}
			if d.UI.Find("out_of_service.note") != nil {
				t.Error("maintenance screen shows the time note")
			}
			want := []State{{Screen: ScreenAttract}, {Screen: ScreenOutOfService}, {Screen: ScreenAttract}, {Screen: ScreenOutOfService, Closed: true}}
			if diff := cmp.Diff(want, seen); diff != "" {
				t.Errorf("observed states (-want +got):\n%s", diff)
			}
		})
	}
}

// TestClockKnownReloads: the start-up jobs (the upstream's division list)
// run again once the time is known.
func TestClockKnownReloads(t *testing.T) {
	d := newDriver(t)
	count := func() int {
		d.up.mu.Lock()
		defer d.up.mu.Unlock()
		n := 0
		for _, c := range d.up.calls {
			if c == "Divisions" {
				n++
			}
		}
		return n
	}
	before := count()
	d.do(Clock{Known: false}, Clock{Known: true})
	if got := count(); got != before+1 {
		t.Errorf("division list fetched %d times after the time came, want once", got-before)
	}
}
