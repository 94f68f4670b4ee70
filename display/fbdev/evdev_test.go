package fbdev

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nhikiosk/nhikiosk/display"
)

type rawEv struct {
	typ, code uint16
	val       int32
}

func decodeAll(d *Decoder, evs []rawEv) []display.Event {
	var out []display.Event
	for _, e := range evs {
		out = append(out, d.Decode(EncodeEvent(e.typ, e.code, e.val))...)
	}
	return out
}

var syn = rawEv{evSyn, synReport, 0}

func TestDecoder(t *testing.T) {
	cal := Calibration{X: Axis{0, 1000}, Y: Axis{0, 1000}}
	down := func(x, y int) display.Event { return display.Event{Kind: display.PointerDown, X: x, Y: y} }
	move := func(x, y int) display.Event { return display.Event{Kind: display.PointerMove, X: x, Y: y} }
	up := func(x, y int) display.Event { return display.Event{Kind: display.PointerUp, X: x, Y: y} }
	for _, tc := range []struct {
		name string
		cal  Calibration
		evs  []rawEv
		want []display.Event
	}{
		{"single touch", cal, []rawEv{
			{evAbs, absX, 500}, {evAbs, absY, 250}, {evKey, btnTouch, 1}, syn,
			{evAbs, absX, 600}, syn,
			{evKey, btnTouch, 0}, syn,
		}, []display.Event{down(50, 25), move(60, 25), up(60, 25)}},
		{"protocol B", cal, []rawEv{
			{evAbs, absMTSlot, 0}, {evAbs, absMTTracking, 7}, {evAbs, absMTPosX, 100}, {evAbs, absMTPosY, 900}, syn,
			{evAbs, absMTSlot, 1}, {evAbs, absMTTracking, 8}, {evAbs, absMTPosX, 999}, syn, // a second finger is ignored
			{evAbs, absMTSlot, 0}, {evAbs, absMTPosY, 800}, syn,
			{evAbs, absMTTracking, -1}, syn,
		}, []display.Event{down(10, 90), move(10, 80), up(10, 80)}},
		{"protocol A", cal, []rawEv{
			{evAbs, absMTPosX, 300}, {evAbs, absMTPosY, 300}, {evSyn, synMTReport, 0},
			{evAbs, absMTPosX, 700}, {evAbs, absMTPosY, 700}, {evSyn, synMTReport, 0}, syn,
			{evAbs, absMTPosX, 310}, {evAbs, absMTPosY, 300}, {evSyn, synMTReport, 0}, syn,
			syn, // no contacts: lifted
		}, []display.Event{down(30, 30), move(31, 30), up(31, 30)}},
		{"calibrated, swapped and inverted", Calibration{X: Axis{200, 3800}, Y: Axis{100, 3900}, SwapXY: true, InvertX: true}, []rawEv{
			{evAbs, absX, 100}, {evAbs, absY, 100}, {evKey, btnTouch, 1}, syn,
			{evKey, btnTouch, 0}, syn,
		}, []display.Event{down(100, 0), up(100, 0)}},
		{"clamped to the screen", cal, []rawEv{
			{evAbs, absX, -50}, {evAbs, absY, 5000}, {evKey, btnTouch, 1}, syn,
		}, []display.Event{down(0, 100)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeAll(NewDecoder(tc.cal, 101, 101), tc.evs)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
		})
	}
}

// FuzzDecoder feeds arbitrary bytes as evdev records: the decoder must not
// panic, and every position it reports must be on the screen.
func FuzzDecoder(f *testing.F) {
	f.Add(append(append(EncodeEvent(evAbs, absX, 10), EncodeEvent(evKey, btnTouch, 1)...), EncodeEvent(evSyn, synReport, 0)...))
	f.Add(append(EncodeEvent(evAbs, absMTTracking, -1), EncodeEvent(evSyn, synMTReport, 0)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(Calibration{X: Axis{-100, 100}, Y: Axis{0, 0}}, 800, 480)
		for i := 0; i+EventSize <= len(data); i += EventSize {
			for _, ev := range d.Decode(data[i : i+EventSize]) {
				if ev.X < 0 || ev.X >= 800 || ev.Y < 0 || ev.Y >= 480 {
					t.Fatalf("event %+v off the screen", ev)
				}
			}
		}
		d.Decode(data) // short or long records are ignored, not read past
	})
}
