package fbdev

import (
	"encoding/binary"
	"unsafe"

	"github.com/nhikiosk/nhikiosk/display"
)

// Event types and codes from linux/input-event-codes.h.
const (
	evSyn = 0x00
	evKey = 0x01
	evAbs = 0x03

	synReport   = 0
	synMTReport = 2

	btnLeft  = 0x110
	btnTouch = 0x14a

	absX          = 0x00
	absY          = 0x01
	absMTSlot     = 0x2f
	absMTPosX     = 0x35
	absMTPosY     = 0x36
	absMTTracking = 0x39
)

// EventSize is the size of struct input_event on this machine: a struct
// timeval of two C longs, then type, code (u16) and value (s32).
const EventSize = 2*int(unsafe.Sizeof(uintptr(0))) + 8

// Axis is the range a touch controller reports on one axis
// (struct input_absinfo minimum and maximum).
type Axis struct{ Min, Max int32 }

// Calibration maps raw touch coordinates onto the screen.
type Calibration struct {
	X, Y Axis
	// SwapXY, InvertX and InvertY fix panels mounted rotated or mirrored
	// relative to their touch controller (applied after swapping).
	SwapXY, InvertX, InvertY bool
}

// Decoder turns a stream of evdev events from one touch device into
// display events: single-touch (ABS_X/ABS_Y with BTN_TOUCH), multi-touch
// protocol A (SYN_MT_REPORT) and protocol B (slots and tracking IDs). Only
// the first contact is followed; the UI handles one touch at a time.
type Decoder struct {
	Cal    Calibration
	Screen display.Event // X and Y hold the screen size in pixels

	x, y       int32
	down       bool // the contact reported to the UI
	touching   bool // the contact as of the events since the last report
	moved      bool
	slot       int32
	mtSeen     bool // protocol A: a contact in this report
	protocolA  bool
	trackingOn bool
}

// NewDecoder returns a decoder for a screen of width × height pixels.
func NewDecoder(cal Calibration, width, height int) *Decoder {
	return &Decoder{Cal: cal, Screen: display.Event{X: width, Y: height}}
}

// Decode parses one raw input_event (EventSize bytes, native byte order:
// little endian on every Raspberry Pi and PC) and returns the display
// events it completes (on SYN_REPORT). Malformed input is ignored.
func (d *Decoder) Decode(raw []byte) []display.Event {
	if len(raw) < EventSize {
		return nil
	}
	o := EventSize - 8
	typ := binary.LittleEndian.Uint16(raw[o:])
	code := binary.LittleEndian.Uint16(raw[o+2:])
	val := int32(binary.LittleEndian.Uint32(raw[o+4:]))
	switch typ {
	case evKey:
		if code == btnTouch || code == btnLeft {
			d.touching = val != 0
		}
	case evAbs:
		d.abs(code, val)
	case evSyn:
		switch code {
		case synMTReport:
			d.protocolA, d.mtSeen = true, true
		case synReport:
			return d.report()
		}
	}
	return nil
}

func (d *Decoder) abs(code uint16, val int32) {
	switch code {
	case absX:
		if !d.trackingOn && !d.protocolA {
			d.x, d.moved = val, true
		}
	case absY:
		if !d.trackingOn && !d.protocolA {
			d.y, d.moved = val, true
		}
	case absMTSlot:
		d.slot = val
	case absMTTracking:
		if d.slot == 0 {
			d.trackingOn = true
			d.touching = val >= 0
		}
	case absMTPosX:
		if d.slot == 0 && !(d.protocolA && d.mtSeen) {
			d.x, d.moved = val, true
		}
	case absMTPosY:
		if d.slot == 0 && !(d.protocolA && d.mtSeen) {
			d.y, d.moved = val, true
		}
	}
}

func (d *Decoder) report() []display.Event {
	if d.protocolA {
		// Protocol A: a report without any contact means all lifted.
		d.touching = d.mtSeen
		d.mtSeen = false
	}
	x, y := d.toScreen()
	ev := display.Event{X: x, Y: y}
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

// toScreen maps the raw position to pixels, clamped to the screen.
func (d *Decoder) toScreen() (int, int) {
	c := d.Cal
	scale := func(v int32, a Axis, n int) int {
		if a.Max <= a.Min {
			return int(min(max(v, 0), int32(n-1)))
		}
		p := int64(v-a.Min) * int64(n-1) / int64(a.Max-a.Min)
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
	return x, y
}

// EncodeEvent builds a raw input_event, for tests and fake devices.
func EncodeEvent(typ, code uint16, val int32) []byte {
	b := make([]byte, EventSize)
	o := EventSize - 8
	binary.LittleEndian.PutUint16(b[o:], typ)
	binary.LittleEndian.PutUint16(b[o+2:], code)
	binary.LittleEndian.PutUint32(b[o+4:], uint32(val))
	return b
}
