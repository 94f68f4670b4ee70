package main

import (
	"sync"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/reader"
)

// panelReader is a card reader whose events pass through the panel (card
// sounds, the reader-missing LED) before the wizard sees them. Events
// still block until taken, as reader.Device promises.
type panelReader struct {
	reader.Device
	kp   *kioskPanel
	once sync.Once
	out  chan reader.Event
}

// Events relays the reader's events; it is closed when the reader's is.
func (r *panelReader) Events() <-chan reader.Event {
	r.once.Do(func() {
		r.out = make(chan reader.Event)
		in := r.Device.Events()
		go func() {
			defer close(r.out)
			for ev := range in {
				r.kp.cardEvent(ev)
				r.out <- ev
			}
		}()
	})
	return r.out
}

// touchScreen is a screen whose touches and key presses also wake the
// backlight.
type touchScreen struct {
	display.Screen
	touched func()
	once    sync.Once
	out     chan display.Event
}

// Events relays the screen's input; it is closed when the screen's is.
func (s *touchScreen) Events() <-chan display.Event {
	s.once.Do(func() {
		s.out = make(chan display.Event)
		in := s.Screen.Events()
		go func() {
			defer close(s.out)
			for ev := range in {
				if ev.Kind == display.PointerDown || ev.Kind == display.KeyPress {
					s.touched()
				}
				s.out <- ev
			}
		}()
	})
	return s.out
}
