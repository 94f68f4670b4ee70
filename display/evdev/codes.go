// Package evdev finds the kiosk's touch devices and turns what they send
// into display events, in pure Go over Linux evdev (/dev/input/event*):
// it lists them in sysfs, follows them being plugged in and out (kernel
// uevents through internal/uevent, a rescan, ENODEV), opens several at
// once, reads their axis ranges (EVIOCGABS) to calibrate them to the
// framebuffer, and decodes single-touch, multi-touch protocol A and B
// (the kernel's ABS_MT_* slots with BTN_TOUCH pointer emulation) and
// absolute mouse (a tablet's BTN_LEFT) streams.
//
// It reports touches and which devices are there; it never interprets a
// touch (that is the display engine's).
package evdev

import (
	"encoding/binary"
	"unsafe"
)

// Event types and codes from linux/input-event-codes.h, exported for the
// tests and fakes of the packages that feed touch devices.
const (
	EvSyn = 0x00
	EvKey = 0x01
	EvRel = 0x02
	EvAbs = 0x03
	EvMsc = 0x04

	SynReport   = 0
	SynMTReport = 2
	SynDropped  = 3

	MscScan      = 0x04
	MscTimestamp = 0x05

	BtnLeft         = 0x110
	BtnRight        = 0x111
	BtnMiddle       = 0x112
	BtnJoystick     = 0x120
	BtnToolFinger   = 0x145
	BtnTouch        = 0x14a
	BtnToolDoubleTp = 0x14d

	RelWheel = 0x08

	AbsX          = 0x00
	AbsY          = 0x01
	AbsPressure   = 0x18
	AbsMTSlot     = 0x2f
	AbsMTTouchMaj = 0x30
	AbsMTWidthMaj = 0x32
	AbsMTPosX     = 0x35
	AbsMTPosY     = 0x36
	AbsMTToolType = 0x37
	AbsMTTracking = 0x39
	AbsMTPressure = 0x3a

	// Input properties (linux/input-event-codes.h INPUT_PROP_*).
	PropPointer = 0x00
	PropDirect  = 0x01
)

// EventSize is the size of struct input_event on this machine: a struct
// timeval of two C longs, then type, code (u16) and value (s32).
const EventSize = 2*int(unsafe.Sizeof(uintptr(0))) + 8

// EncodeEvent builds a raw input_event, for tests and fake devices.
func EncodeEvent(typ, code uint16, val int32) []byte {
	b := make([]byte, EventSize)
	o := EventSize - 8
	binary.LittleEndian.PutUint16(b[o:], typ)
	binary.LittleEndian.PutUint16(b[o+2:], code)
	binary.LittleEndian.PutUint32(b[o+4:], uint32(val))
	return b
}
