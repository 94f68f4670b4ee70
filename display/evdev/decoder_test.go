package evdev

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

var syn = rawEv{EvSyn, SynReport, 0}

func down(x, y int) display.Event { return display.Event{Kind: display.PointerDown, X: x, Y: y} }
func move(x, y int) display.Event { return display.Event{Kind: display.PointerMove, X: x, Y: y} }
func up(x, y int) display.Event   { return display.Event{Kind: display.PointerUp, X: x, Y: y} }

func TestDecoder(t *testing.T) {
	cal := Calibration{X: Axis{0, 1000}, Y: Axis{0, 1000}}
	for _, tc := range []struct {
		name string
		cal  Calibration
		evs  []rawEv
		want []display.Event
	}{
		{"single touch", cal, []rawEv{
			{EvAbs, AbsX, 500}, {EvAbs, AbsY, 250}, {EvKey, BtnTouch, 1}, syn,
			{EvAbs, AbsX, 600}, syn,
			{EvKey, BtnTouch, 0}, syn,
		}, []display.Event{down(50, 25), move(60, 25), up(60, 25)}},
		{"protocol B", cal, []rawEv{
			{EvAbs, AbsMTSlot, 0}, {EvAbs, AbsMTTracking, 7}, {EvAbs, AbsMTPosX, 100}, {EvAbs, AbsMTPosY, 900}, syn,
			{EvAbs, AbsMTSlot, 1}, {EvAbs, AbsMTTracking, 8}, {EvAbs, AbsMTPosX, 999}, syn, // a second finger is ignored
			{EvAbs, AbsMTSlot, 0}, {EvAbs, AbsMTPosY, 800}, syn,
			{EvAbs, AbsMTTracking, -1}, syn,
		}, []display.Event{down(10, 90), move(10, 80), up(10, 80)}},
		{"protocol A", cal, []rawEv{
			{EvAbs, AbsMTPosX, 300}, {EvAbs, AbsMTPosY, 300}, {EvSyn, SynMTReport, 0},
			{EvAbs, AbsMTPosX, 700}, {EvAbs, AbsMTPosY, 700}, {EvSyn, SynMTReport, 0}, syn,
			{EvAbs, AbsMTPosX, 310}, {EvAbs, AbsMTPosY, 300}, {EvSyn, SynMTReport, 0}, syn,
			syn, // no contacts: lifted
		}, []display.Event{down(30, 30), move(31, 30), up(31, 30)}},
		{"calibrated, swapped and inverted", Calibration{X: Axis{200, 3800}, Y: Axis{100, 3900}, SwapXY: true, InvertX: true}, []rawEv{
			{EvAbs, AbsX, 100}, {EvAbs, AbsY, 100}, {EvKey, BtnTouch, 1}, syn,
			{EvKey, BtnTouch, 0}, syn,
		}, []display.Event{down(100, 0), up(100, 0)}},
		{"clamped to the screen", cal, []rawEv{
			{EvAbs, AbsX, -50}, {EvAbs, AbsY, 5000}, {EvKey, BtnTouch, 1}, syn,
		}, []display.Event{down(0, 100)}},
		{"first finger lifts before the second", cal, []rawEv{
			{EvAbs, AbsMTTracking, 1}, {EvAbs, AbsMTPosX, 100}, {EvAbs, AbsMTPosY, 100}, {EvKey, BtnTouch, 1}, {EvAbs, AbsX, 100}, {EvAbs, AbsY, 100}, syn,
			{EvAbs, AbsMTSlot, 1}, {EvAbs, AbsMTTracking, 2}, {EvAbs, AbsMTPosX, 500}, {EvAbs, AbsMTPosY, 500}, syn,
			{EvAbs, AbsMTSlot, 0}, {EvAbs, AbsMTTracking, -1}, {EvAbs, AbsX, 500}, {EvAbs, AbsY, 500}, syn, // emulation moves to the second: ignored
			{EvAbs, AbsMTSlot, 1}, {EvAbs, AbsMTPosX, 600}, {EvAbs, AbsX, 600}, syn,
			{EvAbs, AbsMTTracking, -1}, {EvKey, BtnTouch, 0}, syn,
			// The next touch is followed, in whichever slot it lands.
			{EvAbs, AbsMTTracking, 3}, {EvAbs, AbsMTPosX, 200}, {EvAbs, AbsMTPosY, 300}, {EvKey, BtnTouch, 1}, syn,
			{EvAbs, AbsMTTracking, -1}, {EvKey, BtnTouch, 0}, syn,
		}, []display.Event{down(10, 10), up(10, 10), down(20, 30), up(20, 30)}},
		{"SYN_DROPPED cancels and resynchronises", cal, []rawEv{
			{EvAbs, AbsX, 500}, {EvAbs, AbsY, 500}, {EvKey, BtnTouch, 1}, syn,
			{EvSyn, SynDropped, 0}, {EvAbs, AbsX, 900}, {EvKey, BtnTouch, 0}, syn, // a half-lost report is skipped
			{EvKey, BtnTouch, 1}, syn,
		}, []display.Event{down(50, 50), {Kind: display.PointerCancel, X: 50, Y: 50}, down(50, 50)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeAll(NewDecoder(tc.cal, 101, 101), tc.evs)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
		})
	}
}

// TestDecoderPanels feeds the decoder what each kind of panel's kernel
// driver sends for a tap with a small slide, event for event (the input
// core drops values that did not change, such as ABS_MT_SLOT 0 at first),
// and checks the tap lands on the same framebuffer pixel through each
// panel's own axis ranges.
func TestDecoderPanels(t *testing.T) {
	const w, h = 800, 480
	// The tap: at (200, 120) on the framebuffer, sliding to (204, 120).
	want := []display.Event{down(200, 120), move(204, 120), up(204, 120)}
	for _, tc := range []struct {
		name string
		x, y Axis
		evs  []rawEv
	}{
		// The official 7" display (edt-ft5x06 / "generic ft5x06"): protocol
		// B with the chip's touch id as slot, then
		// input_mt_report_pointer_emulation(use_count=true).
		{"ft5x06", Axis{0, 799}, Axis{0, 479}, []rawEv{
			{EvAbs, AbsMTTracking, 0}, {EvAbs, AbsMTPosX, 200}, {EvAbs, AbsMTPosY, 120},
			{EvKey, BtnTouch, 1}, {EvKey, BtnToolFinger, 1}, {EvAbs, AbsX, 200}, {EvAbs, AbsY, 120}, syn,
			{EvAbs, AbsMTPosX, 204}, {EvAbs, AbsX, 204}, syn,
			{EvAbs, AbsMTTracking, -1}, {EvKey, BtnTouch, 0}, {EvKey, BtnToolFinger, 0}, syn,
		}},
		// Touch Display 2 (goodix GT911; its ranges need not be the
		// framebuffer's): the chip's touch id picks the slot (3 here), it
		// reports the touch's size, then input_mt_sync_frame with
		// INPUT_MT_DROP_UNUSED and emulation without finger count.
		{"goodix", Axis{0, 1599}, Axis{0, 959}, []rawEv{
			{EvAbs, AbsMTSlot, 3}, {EvAbs, AbsMTTracking, 41}, {EvAbs, AbsMTPosX, 400}, {EvAbs, AbsMTPosY, 240},
			{EvAbs, AbsMTTouchMaj, 22}, {EvAbs, AbsMTWidthMaj, 22},
			{EvKey, BtnTouch, 1}, {EvAbs, AbsX, 400}, {EvAbs, AbsY, 240}, syn,
			{EvAbs, AbsMTPosX, 408}, {EvAbs, AbsMTTouchMaj, 24}, {EvAbs, AbsMTWidthMaj, 24}, {EvAbs, AbsX, 408}, syn,
			{EvAbs, AbsMTTracking, -1}, {EvKey, BtnTouch, 0}, syn,
		}},
		// ili210x: input_mt_slot for every slot of every frame, so the
		// frame ends on the last slot and the next starts with slot 0;
		// emulation without finger count.
		{"ili210x", Axis{0, 2047}, Axis{0, 2047}, []rawEv{
			{EvAbs, AbsMTTracking, 5}, {EvAbs, AbsMTPosX, 512}, {EvAbs, AbsMTPosY, 514},
			{EvAbs, AbsMTSlot, 1}, {EvAbs, AbsMTSlot, 2}, {EvAbs, AbsMTSlot, 3}, {EvAbs, AbsMTSlot, 4}, {EvAbs, AbsMTSlot, 5},
			{EvKey, BtnTouch, 1}, {EvAbs, AbsX, 512}, {EvAbs, AbsY, 514}, syn,
			{EvAbs, AbsMTSlot, 0}, {EvAbs, AbsMTPosX, 523},
			{EvAbs, AbsMTSlot, 1}, {EvAbs, AbsMTSlot, 2}, {EvAbs, AbsMTSlot, 3}, {EvAbs, AbsMTSlot, 4}, {EvAbs, AbsMTSlot, 5},
			{EvAbs, AbsX, 523}, syn,
			{EvAbs, AbsMTSlot, 0}, {EvAbs, AbsMTTracking, -1},
			{EvAbs, AbsMTSlot, 1}, {EvAbs, AbsMTSlot, 2}, {EvAbs, AbsMTSlot, 3}, {EvAbs, AbsMTSlot, 4}, {EvAbs, AbsMTSlot, 5},
			{EvKey, BtnTouch, 0}, syn,
		}},
		// A USB HID panel (hid-multitouch): protocol B, tool type, then
		// emulation and MSC_TIMESTAMP before every SYN_REPORT.
		{"USB HID multitouch", Axis{0, 4095}, Axis{0, 4095}, []rawEv{
			{EvAbs, AbsMTTracking, 12}, {EvAbs, AbsMTPosX, 1025}, {EvAbs, AbsMTPosY, 1026},
			{EvKey, BtnTouch, 1}, {EvAbs, AbsX, 1025}, {EvAbs, AbsY, 1026}, {EvMsc, MscTimestamp, 0}, syn,
			{EvAbs, AbsMTPosX, 1046}, {EvAbs, AbsX, 1046}, {EvMsc, MscTimestamp, 8000}, syn,
			{EvAbs, AbsMTTracking, -1}, {EvKey, BtnTouch, 0}, {EvMsc, MscTimestamp, 16000}, syn,
		}},
		// QEMU's usb-tablet (hid-generic): an absolute mouse, the left
		// button for the finger, MSC_SCAN before each button, a wheel.
		{"QEMU usb-tablet", Axis{0, 32767}, Axis{0, 32767}, []rawEv{
			{EvAbs, AbsX, 8202}, {EvAbs, AbsY, 8209}, syn,
			{EvMsc, MscScan, 0x90001}, {EvKey, BtnLeft, 1}, syn,
			{EvAbs, AbsX, 8366}, syn,
			{EvRel, RelWheel, 0}, {EvMsc, MscScan, 0x90001}, {EvKey, BtnLeft, 0}, syn,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeAll(NewDecoder(Calibration{X: tc.x, Y: tc.y}, w, h), tc.evs)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("events (-want +got):\n%s", d)
			}
		})
	}
}

// A device opened while its kernel state is mid-way (slot 2 current, the
// pointer somewhere) is seeded from EVIOCGABS.
func TestDecoderSeed(t *testing.T) {
	d := NewDecoder(Calibration{X: Axis{0, 100}, Y: Axis{0, 100}}, 101, 101)
	d.Seed(40, 60, 2)
	got := decodeAll(d, []rawEv{
		{EvKey, BtnLeft, 1}, syn, // a tablet click without a move: where the pointer is
		{EvKey, BtnLeft, 0}, syn,
	})
	if d := cmp.Diff([]display.Event{down(40, 60), up(40, 60)}, got); d != "" {
		t.Errorf("tablet click (-want +got):\n%s", d)
	}
	d = NewDecoder(Calibration{X: Axis{0, 100}, Y: Axis{0, 100}}, 101, 101)
	d.Seed(0, 0, 2)
	got = decodeAll(d, []rawEv{
		{EvAbs, AbsMTTracking, 9}, {EvAbs, AbsMTPosX, 30}, {EvAbs, AbsMTPosY, 70}, syn, // in slot 2, unsaid
		{EvAbs, AbsMTSlot, 0}, {EvAbs, AbsMTTracking, 10}, {EvAbs, AbsMTPosX, 90}, syn,
		{EvAbs, AbsMTSlot, 2}, {EvAbs, AbsMTTracking, -1}, syn,
	})
	if d := cmp.Diff([]display.Event{down(30, 70), up(30, 70)}, got); d != "" {
		t.Errorf("multi-touch from slot 2 (-want +got):\n%s", d)
	}
}

func TestDecoderCancel(t *testing.T) {
	d := NewDecoder(Calibration{X: Axis{0, 100}, Y: Axis{0, 100}}, 101, 101)
	d.Pointer = 3
	if got := d.Cancel(); got != nil {
		t.Errorf("Cancel with nothing down = %v", got)
	}
	decodeAll(d, []rawEv{{EvAbs, AbsX, 10}, {EvAbs, AbsY, 20}, {EvKey, BtnTouch, 1}, syn})
	want := []display.Event{{Kind: display.PointerCancel, X: 10, Y: 20, Pointer: 3}}
	if diff := cmp.Diff(want, d.Cancel()); diff != "" {
		t.Errorf("Cancel (-want +got):\n%s", diff)
	}
	if got := decodeAll(d, []rawEv{{EvKey, BtnTouch, 0}, syn}); got != nil {
		t.Errorf("lift after Cancel = %v, want nothing", got)
	}
}

// FuzzDecoder feeds arbitrary bytes as evdev records: the decoder must not
// panic, every position it reports must be on the screen, and downs and
// ups must alternate.
func FuzzDecoder(f *testing.F) {
	f.Add(append(append(EncodeEvent(EvAbs, AbsX, 10), EncodeEvent(EvKey, BtnTouch, 1)...), EncodeEvent(EvSyn, SynReport, 0)...))
	f.Add(append(EncodeEvent(EvAbs, AbsMTTracking, -1), EncodeEvent(EvSyn, SynMTReport, 0)...))
	f.Add(append(append(EncodeEvent(EvAbs, AbsMTSlot, 3), EncodeEvent(EvAbs, AbsMTTracking, 1)...), EncodeEvent(EvSyn, SynDropped, 0)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewDecoder(Calibration{X: Axis{-100, 100}, Y: Axis{0, 0}}, 800, 480)
		down := false
		check := func(evs []display.Event) {
			for _, ev := range evs {
				if ev.X < 0 || ev.X >= 800 || ev.Y < 0 || ev.Y >= 480 {
					t.Fatalf("event %+v off the screen", ev)
				}
				switch ev.Kind {
				case display.PointerDown:
					if down {
						t.Fatalf("two downs without an up")
					}
					down = true
				case display.PointerMove, display.PointerUp, display.PointerCancel:
					if !down {
						t.Fatalf("%+v without a down", ev)
					}
					down = ev.Kind == display.PointerMove
				}
			}
		}
		for i := 0; i+EventSize <= len(data); i += EventSize {
			check(d.Decode(data[i : i+EventSize]))
		}
		check(d.Decode(data)) // short or long records are ignored, not read past
		check(d.Cancel())
	})
}
