package main

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/display/evdev"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/reader"
)

// hwRecorder records what the hardware tracker tells the wizard and the
// fleet.
type hwRecorder struct {
	mu     sync.Mutex
	posted []appliance.Hardware
	events []fleet.EventKind
}

func (r *hwRecorder) post(ev appliance.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.posted = append(r.posted, ev.(appliance.Hardware))
}

func (r *hwRecorder) event(k fleet.EventKind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, k)
}

// wait waits until the last post is want and the events are events.
func (r *hwRecorder) wait(t *testing.T, want appliance.Hardware, events ...fleet.EventKind) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		r.mu.Lock()
		ok := len(r.posted) > 0 && r.posted[len(r.posted)-1] == want && slices.Equal(r.events, events)
		posted, got := slices.Clone(r.posted), slices.Clone(r.events)
		r.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("posted %+v and events %v, want last %+v and %v", posted, got, want, events)
		}
	}
}

func touches(n int) []evdev.Found { return make([]evdev.Found, n) }

// TestHardware follows a kiosk that starts without its reader and with a
// late touch device, loses and regains touch, then loses and regains the
// reader: the wizard hears what is missing once the start-up grace is
// over, the fleet each change once.
func TestHardware(t *testing.T) {
	h := newHardware(slog.New(slog.DiscardHandler), 50*time.Millisecond)
	h.followTouch()
	r := &hwRecorder{}
	h.attach(r.post, r.event)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.run(ctx) }()
	defer func() { cancel(); <-done }()

	h.touchDevices(touches(0)) // the first scan: none yet
	h.touchDevices(touches(1)) // the panel's driver probed, within the grace
	r.wait(t, appliance.Hardware{NoReader: true}, fleet.EvReaderUnplugged)

	h.readerEvent(reader.Event{Kind: reader.ReaderAttached})
	r.wait(t, appliance.Hardware{}, fleet.EvReaderUnplugged, fleet.EvReaderReplugged)

	h.touchDevices(touches(0))
	r.wait(t, appliance.Hardware{NoTouch: true}, fleet.EvReaderUnplugged, fleet.EvReaderReplugged, fleet.EvTouchMissing)
	h.touchDevices(touches(2)) // two at once
	h.touchDevices(touches(1))
	r.wait(t, appliance.Hardware{}, fleet.EvReaderUnplugged, fleet.EvReaderReplugged, fleet.EvTouchMissing, fleet.EvTouchRestored)

	// Once a reader was seen, its unplugs are the card watch's events
	// (observeReader): here only the wizard hears.
	h.readerEvent(reader.Event{Kind: reader.ReaderDetached})
	r.wait(t, appliance.Hardware{NoReader: true}, fleet.EvReaderUnplugged, fleet.EvReaderReplugged, fleet.EvTouchMissing, fleet.EvTouchRestored)
	h.readerEvent(reader.Event{Kind: reader.CardInserted}) // not a reader event
	h.readerEvent(reader.Event{Kind: reader.ReaderAttached})
	r.wait(t, appliance.Hardware{}, fleet.EvReaderUnplugged, fleet.EvReaderReplugged, fleet.EvTouchMissing, fleet.EvTouchRestored)
}

// A display without touch devices of its own (a window) is never short of
// touch; nothing is said during the grace.
func TestHardwareWindow(t *testing.T) {
	h := newHardware(slog.New(slog.DiscardHandler), 200*time.Millisecond)
	r := &hwRecorder{}
	h.attach(r.post, r.event)
	h.readerEvent(reader.Event{Kind: reader.ReaderAttached})
	h.readerEvent(reader.Event{Kind: reader.ReaderDetached})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.run(ctx) }()
	defer func() { cancel(); <-done }()
	time.Sleep(100 * time.Millisecond)
	r.mu.Lock()
	early := len(r.posted) + len(r.events)
	r.mu.Unlock()
	if early != 0 {
		t.Errorf("told the wizard or fleet during the grace")
	}
	// A reader seen and gone before the grace: the card watch told the
	// fleet; the wizard hears it once the grace is over.
	r.wait(t, appliance.Hardware{NoReader: true})
}
