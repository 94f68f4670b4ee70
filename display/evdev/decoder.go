package evdev

import (
	"encoding/binary"
	"image"

	"github.com/nhikiosk/nhikiosk/display"
)

// Axis is the range a touch controller reports on one axis
// (struct input_absinfo minimum and maximum).
type Axis struct{ Min, Max int32 }

// Calibration maps raw touch coordinates onto the screen: each axis's
// range onto the framebuffer's pixels, then those onto the frame's.
type Calibration struct {
	X, Y Axis
	// SwapXY, InvertX and InvertY fix touch controllers mounted rotated
	// or mirrored relative to their panel (applied after swapping).
	SwapXY, InvertX, InvertY bool
	// Rotation is how the frame is turned on the panel (display.rotation,
	// a panel mounted rotated): a touch on the panel's pixel is mapped
	// back to the frame's pixel shown there, as the framebuffer backend
	// turns the frame.
	Rotation display.Rotation
}

// Decoder turns the stream of evdev events from one touch device into
// display events, on each SYN_REPORT:
//
//   - multi-touch protocol B (ABS_MT_SLOT, ABS_MT_TRACKING_ID and
//     ABS_MT_POSITION_*: ft5x06, goodix, ili210x, hid-multitouch), whose
//     first contact is followed in whichever slot it is; the pointer
//     emulation these drivers add (BTN_TOUCH, ABS_X/ABS_Y) is then ignored;
//   - multi-touch protocol A (SYN_MT_REPORT), first contact of each report;
//   - single touch (ABS_X/ABS_Y with BTN_TOUCH: resistive panels, simple
//     HID digitizers) and absolute pointers (ABS_X/ABS_Y with BTN_LEFT:
//     QEMU's usb-tablet, touch panels that pose as a mouse).
//
// The UI handles one touch at a time, so further fingers are ignored.
// After SYN_DROPPED (the kernel's buffer overflowed) events are skipped to
// the next SYN_REPORT and a contact in progress is cancelled.
type Decoder struct {
	Cal Calibration
	// Screen's X and Y hold the panel's size in pixels (the framebuffer's,
	// before Cal.Rotation).
	Screen display.Event
	// Pointer is the id the events carry (one per device, so two panels
	// never release each other's touch).
	Pointer int

	x, y      int32
	down      bool // the contact reported to the UI
	touching  bool // the contact as of the events since the last report
	moved     bool
	slot      int32 // protocol B: the slot the next ABS_MT_* is about
	primary   int32 // protocol B: the slot followed, -1 if none
	tracking  bool  // protocol B seen: ignore the pointer emulation
	mtSeen    bool  // protocol A: a contact in this report
	protocolA bool
	dropping  bool // after SYN_DROPPED, until SYN_REPORT
}

// NewDecoder returns a decoder for a panel (framebuffer) of width ×
// height pixels; with cal.Rotation its events are in the turned frame's
// pixels.
func NewDecoder(cal Calibration, width, height int) *Decoder {
	return &Decoder{Cal: cal, Screen: display.Event{X: width, Y: height}, primary: -1}
}

// Seed sets the state the device is in when it is opened (EVIOCGABS):
// the position, and the slot that ABS_MT_* events refer to until the
// kernel says otherwise (it sends ABS_MT_SLOT only when it changes).
func (d *Decoder) Seed(x, y, slot int32) { d.x, d.y, d.slot = x, y, slot }

// Decode parses one raw input_event (EventSize bytes, native byte order:
// little endian on every Raspberry Pi and PC) and returns the display
// events it completes. Malformed input is ignored.
func (d *Decoder) Decode(raw []byte) []display.Event {
	if len(raw) < EventSize {
		return nil
	}
	o := EventSize - 8
	typ := binary.LittleEndian.Uint16(raw[o:])
	code := binary.LittleEndian.Uint16(raw[o+2:])
	val := int32(binary.LittleEndian.Uint32(raw[o+4:]))
	if d.dropping {
		if typ == EvSyn && code == SynReport {
			d.dropping = false
		}
		return nil
	}
	switch typ {
	case EvKey:
		if (code == BtnTouch || code == BtnLeft) && !d.tracking {
			d.touching = val != 0
		}
	case EvAbs:
		d.abs(code, val)
	case EvSyn:
		switch code {
		case SynMTReport:
			d.protocolA, d.mtSeen = true, true
		case SynReport:
			return d.report()
		case SynDropped:
			d.dropping = true
			return d.Cancel()
		}
	}
	return nil
}

func (d *Decoder) abs(code uint16, val int32) {
	switch code {
	case AbsX:
		if !d.tracking && !d.protocolA {
			d.x, d.moved = val, true
		}
	case AbsY:
		if !d.tracking && !d.protocolA {
			d.y, d.moved = val, true
		}
	case AbsMTSlot:
		d.slot = val
	case AbsMTTracking:
		d.tracking = true
		switch {
		case val >= 0 && d.primary < 0:
			d.primary, d.touching = d.slot, true
		case val < 0 && d.slot == d.primary:
			d.primary, d.touching = -1, false
		}
	case AbsMTPosX:
		if d.follows() {
			d.x, d.moved = val, true
		}
	case AbsMTPosY:
		if d.follows() {
			d.y, d.moved = val, true
		}
	}
}

// follows says whether an ABS_MT position is about the contact followed.
func (d *Decoder) follows() bool {
	switch {
	case d.protocolA:
		return !d.mtSeen // the first contact of the report
	case d.tracking:
		return d.slot == d.primary
	}
	return true // positions before any tracking id: a contact already down
}

func (d *Decoder) report() []display.Event {
	if d.protocolA {
		// Protocol A: a report without any contact means all lifted.
		d.touching = d.mtSeen
		d.mtSeen = false
	}
	x, y := d.toScreen()
	ev := display.Event{X: x, Y: y, Pointer: d.Pointer}
	var out []display.Event
	switch {
	case d.touching && !d.down:
		ev.Kind = display.PointerDown
		out = append(out, ev)
	case d.touching && d.down && d.moved:
		ev.Kind = display.PointerMove
		out = append(out, ev)
	case !d.touching && d.down:
		ev.Kind = display.PointerUp
		out = append(out, ev)
	}
	d.down, d.moved = d.touching, false
	return out
}

// Cancel forgets the contact in progress (the device went away, or the
// kernel dropped events) and returns the PointerCancel that tells the UI,
// if a contact was down.
func (d *Decoder) Cancel() []display.Event {
	was := d.down
	d.down, d.touching, d.moved, d.mtSeen, d.primary = false, false, false, false, -1
	if !was {
		return nil
	}
	x, y := d.toScreen()
	return []display.Event{{Kind: display.PointerCancel, X: x, Y: y, Pointer: d.Pointer}}
}

// toScreen maps the raw position to pixels, clamped to the screen.
func (d *Decoder) toScreen() (int, int) {
	c := d.Cal
	scale := func(v int32, a Axis, n int) int {
		if a.Max <= a.Min {
			return int(min(max(v, 0), int32(n-1)))
		}
		span := int64(a.Max) - int64(a.Min)
		p := (int64(v) - int64(a.Min)) * int64(n-1)
		if p >= 0 {
			p = (p + span/2) / span // to the nearest pixel
		} else {
			p /= span
		}
		return int(min(max(p, 0), int64(n-1)))
	}
	rx, ry := d.x, d.y
	ax, ay := c.X, c.Y
	if c.SwapXY {
		rx, ry, ax, ay = ry, rx, ay, ax
	}
	x := scale(rx, ax, d.Screen.X)
	y := scale(ry, ay, d.Screen.Y)
	if c.InvertX {
		x = d.Screen.X - 1 - x
	}
	if c.InvertY {
		y = d.Screen.Y - 1 - y
	}
	p := c.Rotation.FromPanel(image.Pt(x, y), image.Pt(d.Screen.X, d.Screen.Y))
	return p.X, p.Y
}
