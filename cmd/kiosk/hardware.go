package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/display/evdev"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/reader"
)

// hardwareGrace is how long after start a missing reader or touch device
// is not yet a fault: the readers there at start are reported within it,
// and a touch controller whose driver probes late (goodix, ft5x06 as
// modules) appears within it.
const hardwareGrace = 10 * time.Second

// hardware follows whether the kiosk has its own devices, a card reader
// and, on the framebuffer, a touch device (issue 18), and tells the
// wizard (appliance.Hardware: out of service while one is missing, back
// by itself when it returns) and the fleet: touch_missing and
// touch_restored, and reader_unplugged for a kiosk that started without a
// reader (unplugs after one was seen are the card watch's, observeReader).
type hardware struct {
	log   *slog.Logger
	grace time.Duration
	wake  chan struct{} // the relay posts the latest state

	mu          sync.Mutex
	readers     int
	touch       int  // touch devices; -1 where the display has none of its own (a window, headless)
	ready       bool // the grace is over
	told        appliance.Hardware
	seen        bool // a reader was attached once
	noneAtStart bool // reader_unplugged was sent for a start without a reader
	post        func(appliance.Event)
	event       func(fleet.EventKind)
}

func newHardware(log *slog.Logger, grace time.Duration) *hardware {
	return &hardware{log: log, grace: grace, touch: -1, wake: make(chan struct{}, 1)}
}

// followTouch says the display has touch devices of its own to follow
// (fbdev): until the first report, there are none.
func (h *hardware) followTouch() {
	h.mu.Lock()
	h.touch = 0
	h.mu.Unlock()
}

// attach gives the hardware the wizard to post to and the fleet to tell.
// Call it before run.
func (h *hardware) attach(post func(appliance.Event), event func(fleet.EventKind)) {
	h.mu.Lock()
	h.post, h.event = post, event
	h.mu.Unlock()
}

// readerEvent counts readers from the card watch's events.
func (h *hardware) readerEvent(ev reader.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch ev.Kind {
	case reader.ReaderAttached:
		h.readers++
		h.seen = true
	case reader.ReaderDetached:
		h.readers = max(0, h.readers-1)
	default:
		return
	}
	h.updateLocked()
}

// touchDevices takes the touch devices in use (evdev's Changed).
func (h *hardware) touchDevices(fs []evdev.Found) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.touch = len(fs)
	h.updateLocked()
}

// run waits out the grace, then relays every change to the wizard until
// ctx ends.
func (h *hardware) run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-time.After(h.grace):
	}
	h.mu.Lock()
	h.ready = true
	h.updateLocked()
	h.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.wake:
		}
		h.mu.Lock()
		post, hw := h.post, h.told
		h.mu.Unlock()
		if post != nil {
			post(hw) // the latest state, whatever came between
		}
	}
}

// updateLocked works out what is missing and, once the grace is over,
// tells the fleet of changes and wakes the relay.
func (h *hardware) updateLocked() {
	if !h.ready {
		return
	}
	want := appliance.Hardware{NoReader: h.readers == 0, NoTouch: h.touch == 0}
	if want == h.told {
		return
	}
	was := h.told
	h.told = want
	h.log.Warn("kiosk hardware", "readers", h.readers, "touch_devices", h.touch, "out_of_service", want.Missing())
	switch {
	case want.NoTouch && !was.NoTouch:
		h.tell(fleet.EvTouchMissing)
	case !want.NoTouch && was.NoTouch:
		h.tell(fleet.EvTouchRestored)
	}
	switch {
	case want.NoReader && !h.seen && !h.noneAtStart:
		h.noneAtStart = true
		h.tell(fleet.EvReaderUnplugged)
	case !want.NoReader && h.noneAtStart:
		h.noneAtStart = false
		h.tell(fleet.EvReaderReplugged)
	}
	select {
	case h.wake <- struct{}{}:
	default: // the relay will read the latest
	}
}

func (h *hardware) tell(kind fleet.EventKind) {
	if h.event != nil {
		h.event(kind)
	}
}
