// Package ueventtest fakes the kernel's uevent stream for tests of the
// packages that follow hotplug (reader/ccid, display/evdev).
package ueventtest

import (
	"context"

	"github.com/nhikiosk/nhikiosk/internal/uevent"
)

// Source is a uevent.Source fed by the test: send an event, or an error
// (uevent.ErrOverflow to make the follower rescan).
type Source struct {
	C chan Item
}

// Item is one thing Next returns.
type Item struct {
	Event uevent.Event
	Err   error
}

// New returns an empty Source; sends block until the follower takes them,
// so once a later send returns, the earlier event has been handled.
func New() *Source { return &Source{C: make(chan Item)} }

// Send hands e to the follower and waits until it takes it.
func (s *Source) Send(e uevent.Event) { s.C <- Item{Event: e} }

// Overflow tells the follower events were lost.
func (s *Source) Overflow() { s.C <- Item{Err: uevent.ErrOverflow} }

// Next implements uevent.Source.
func (s *Source) Next(ctx context.Context) (uevent.Event, error) {
	select {
	case it := <-s.C:
		return it.Event, it.Err
	case <-ctx.Done():
		return uevent.Event{}, ctx.Err()
	}
}

// Close implements uevent.Source.
func (s *Source) Close() error { return nil }

// Add is the uevent the kernel sends when devpath appears, for subsystem
// and (if not empty) the device node devname under /dev.
func Add(subsystem, devtype, devpath, devname string) uevent.Event {
	return event("add", subsystem, devtype, devpath, devname)
}

// Remove is the uevent for devpath going away.
func Remove(subsystem, devtype, devpath, devname string) uevent.Event {
	return event("remove", subsystem, devtype, devpath, devname)
}

func event(action, subsystem, devtype, devpath, devname string) uevent.Event {
	env := map[string]string{"ACTION": action, "DEVPATH": devpath, "SUBSYSTEM": subsystem}
	if devtype != "" {
		env["DEVTYPE"] = devtype
	}
	if devname != "" {
		env["DEVNAME"] = devname
	}
	return uevent.Event{Action: action, DevPath: devpath, Subsystem: subsystem, DevType: devtype, DevName: devname, Env: env}
}
