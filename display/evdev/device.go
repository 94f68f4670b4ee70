package evdev

import "io"

// Device is an opened touch device. Read returns whole input_event
// records (EventSize bytes each); once the device is unplugged it fails
// with an error wrapping syscall.ENODEV. Close ends a Read in progress.
type Device interface {
	io.ReadCloser
	// Info describes the device as it was when opened.
	Info() Info
}

// Info is what a touch device says of itself when opened (EVIOCGABS):
// the ranges of the axes its touches come on, the position it last
// reported, and the multi-touch slot its next ABS_MT_* events are about.
type Info struct {
	X, Y       Axis
	PosX, PosY int32
	Slot       int32
}
