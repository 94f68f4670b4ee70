// Package uevent delivers the kernel's device events (netlink
// NETLINK_KOBJECT_UEVENT): devices plugged in and out, as the kernel
// announces them. It is the one source of hotplug events on the appliance,
// where there is no udev: card readers (reader/ccid) and touch devices
// (display/evdev) both follow it, through one socket shared by a Mux.
//
// It only parses and delivers events; what a device is and whether to use
// it is for the packages that follow it.
package uevent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
)

// Event is one kernel object event, as the kernel sends it:
// "ACTION@DEVPATH\0KEY=VALUE\0…".
type Event struct {
	Action    string // add, remove, bind, unbind, change, …
	DevPath   string // under /sys, e.g. /devices/…/usb1/1-2
	Subsystem string // usb, input, …
	DevType   string // usb_device, usb_interface, …
	// DevName is the device node under /dev (DEVNAME), e.g.
	// input/event3 or bus/usb/001/004; empty for objects without one.
	DevName string
	Env     map[string]string
}

// ErrNotUevent means a netlink message is not a kernel uevent (udev's own
// "libudev" messages included).
var ErrNotUevent = errors.New("uevent: not a kernel uevent")

// ErrOverflow is returned by Source.Next when events were lost (the
// socket's receive buffer overflowed, or a reader fell behind a Mux):
// the caller must rescan what it follows, then go on calling Next.
var ErrOverflow = errors.New("uevent: events were lost; rescan")

// Parse decodes one kernel uevent message.
func Parse(p []byte) (Event, error) {
	fields := bytes.Split(bytes.TrimRight(p, "\x00"), []byte{0})
	head := string(fields[0])
	action, path, ok := strings.Cut(head, "@")
	if !ok || action == "" || !strings.HasPrefix(path, "/") {
		return Event{}, fmt.Errorf("%w: header %.40q", ErrNotUevent, head)
	}
	u := Event{Env: make(map[string]string, len(fields))}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(string(f), "=")
		if !ok || k == "" {
			return Event{}, fmt.Errorf("%w: field %.40q", ErrNotUevent, f)
		}
		u.Env[k] = v
	}
	u.Action, u.DevPath = u.Env["ACTION"], u.Env["DEVPATH"]
	if u.Action != action || u.DevPath != path {
		return Event{}, fmt.Errorf("%w: header %.40q disagrees with ACTION/DEVPATH", ErrNotUevent, head)
	}
	u.Subsystem, u.DevType, u.DevName = u.Env["SUBSYSTEM"], u.Env["DEVTYPE"], u.Env["DEVNAME"]
	return u, nil
}

// Source delivers kernel uevents. Next blocks until one arrives or ctx
// ends; it returns ErrOverflow (and then goes on) when events were lost.
// Next is called from one goroutine at a time; Close may be called from
// any, and ends a Next in progress.
type Source interface {
	Next(ctx context.Context) (Event, error)
	Close() error
}
