package main

import (
	"image"
	"image/color"
	"image/draw"
	"sync"

	"github.com/nhikiosk/nhikiosk/display"
)

// devStrip is the demo's developer strip: a band along the bottom of the
// window with buttons that act on the virtual card reader (insert the test
// card, pull it, insert a mute card). It wraps the real screen, so the
// wizard sees a screen that is the band shorter and never knows. Only
// -demo uses it; a kiosk never shows it.
type devStrip struct {
	inner   display.Screen
	font    *display.Font
	h       int
	buttons []stripButton
	events  chan display.Event

	mu    sync.Mutex
	frame *image.RGBA // the whole window: the wizard's frame, then the band
	drawn bool
}

// stripButton is one control of the strip. On the web display the
// buttons are the page's own, under the panel (element id "control-"+id).
type stripButton struct {
	id    string
	label string
	do    func()
	r     image.Rectangle
}

func newDevStrip(inner display.Screen, font *display.Font, buttons []stripButton) *devStrip {
	size := inner.Size()
	h := max(48, size.Y/16)
	s := &devStrip{inner: inner, font: font, h: h, buttons: buttons,
		events: make(chan display.Event, 64), frame: image.NewRGBA(image.Rectangle{Max: size})}
	w := size.X / len(buttons)
	for i := range s.buttons {
		s.buttons[i].r = image.Rect(i*w+6, size.Y-h+6, (i+1)*w-6, size.Y-6)
	}
	go s.route()
	return s
}

// Size is the window less the band.
func (s *devStrip) Size() image.Point { return s.inner.Size().Sub(image.Pt(0, s.h)) }

// Present draws the wizard's frame above the band and the band once.
func (s *devStrip) Present(frame *image.RGBA, dirty []image.Rectangle) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(dirty) == 0 {
		dirty = []image.Rectangle{frame.Rect}
	}
	for _, r := range dirty {
		draw.Draw(s.frame, r, frame, r.Min, draw.Src)
	}
	if !s.drawn {
		s.drawBand()
		s.drawn = true
		dirty = append(dirty, image.Rect(0, s.Size().Y, s.frame.Rect.Dx(), s.frame.Rect.Dy()))
	}
	return s.inner.Present(s.frame, dirty)
}

func (s *devStrip) drawBand() {
	size := s.inner.Size()
	band := image.Rect(0, size.Y-s.h, size.X, size.Y)
	draw.Draw(s.frame, band, &image.Uniform{color.RGBA{0x30, 0x30, 0x30, 0xff}}, image.Point{}, draw.Src)
	px := s.h * 2 / 5
	for _, b := range s.buttons {
		draw.Draw(s.frame, b.r, &image.Uniform{color.RGBA{0xf0, 0xc0, 0x30, 0xff}}, image.Point{}, draw.Src)
		w := s.font.Width(b.label, px)
		s.font.Draw(s.frame, b.r.Min.X+(b.r.Dx()-w)/2, b.r.Min.Y+(b.r.Dy()+px)/2-px/8, b.label, px, color.RGBA{0x10, 0x10, 0x10, 0xff})
	}
}

// Events are the window's, less those on the band.
func (s *devStrip) Events() <-chan display.Event { return s.events }

// route passes input above the band to the wizard and runs the band's
// buttons on a release over them.
func (s *devStrip) route() {
	defer close(s.events)
	top := s.Size().Y
	for ev := range s.inner.Events() {
		if ev.Kind == display.KeyPress || ev.Y < top {
			s.events <- ev
			continue
		}
		if ev.Kind != display.PointerUp {
			continue
		}
		for _, b := range s.buttons {
			if ev.Pos().In(b.r) {
				b.do()
			}
		}
	}
}

// Close closes the window.
func (s *devStrip) Close() error { return s.inner.Close() }
