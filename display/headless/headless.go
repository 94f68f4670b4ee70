// Package headless is the display backend without a display: frames are
// kept in memory and written as PNG on request, and input is injected by
// tests (or by a remote-control tool). It must not be used to show a
// citizen anything.
package headless

import (
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"io"
	"sync"

	"github.com/nhikiosk/nhikiosk/display"
)

// Screen is an in-memory display.Screen. It is safe for concurrent use.
type Screen struct {
	mu       sync.Mutex
	frame    *image.RGBA
	events   chan display.Event
	presents int
	closed   bool
}

// New returns a screen of size pixels whose event queue holds up to 256
// injected events.
func New(size image.Point) *Screen {
	return &Screen{frame: image.NewRGBA(image.Rectangle{Max: size}), events: make(chan display.Event, 256)}
}

// Size returns the screen size.
func (s *Screen) Size() image.Point { return s.frame.Rect.Max }

// Present copies the dirty parts of frame (all of it if dirty is empty).
func (s *Screen) Present(frame *image.RGBA, dirty []image.Rectangle) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("headless: present: screen closed")
	}
	if frame.Rect != s.frame.Rect {
		return fmt.Errorf("headless: present: frame %v on a %v screen", frame.Rect, s.frame.Rect)
	}
	if len(dirty) == 0 {
		dirty = []image.Rectangle{frame.Rect}
	}
	for _, r := range dirty {
		draw.Draw(s.frame, r, frame, r.Min, draw.Src)
	}
	s.presents++
	return nil
}

// Events returns the injected events.
func (s *Screen) Events() <-chan display.Event { return s.events }

// Inject queues ev as if it came from a touch screen or keyboard; it
// reports false when the queue is full or the screen closed.
func (s *Screen) Inject(ev display.Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	select {
	case s.events <- ev:
		return true
	default:
		return false
	}
}

// Close closes the event channel.
func (s *Screen) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.events)
	}
	return nil
}

// Frame returns a copy of what is on screen.
func (s *Screen) Frame() *image.RGBA {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := image.NewRGBA(s.frame.Rect)
	copy(c.Pix, s.frame.Pix)
	return c
}

// Presents returns how many times Present was called.
func (s *Screen) Presents() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.presents
}

// WritePNG writes what is on screen as PNG.
func (s *Screen) WritePNG(w io.Writer) error {
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(w, s.Frame()); err != nil {
		return fmt.Errorf("headless: write PNG: %w", err)
	}
	return nil
}
