package headless

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"testing"

	"github.com/nhikiosk/nhikiosk/display"
)

func TestPresentDirtyAndPNG(t *testing.T) {
	s := New(image.Pt(40, 30))
	frame := image.NewRGBA(image.Rect(0, 0, 40, 30))
	for i := range frame.Pix {
		frame.Pix[i] = 0xff
	}
	if err := s.Present(frame, nil); err != nil {
		t.Fatal(err)
	}
	red := color.RGBA{0xff, 0, 0, 0xff}
	for y := range 30 {
		for x := range 40 {
			frame.SetRGBA(x, y, red)
		}
	}
	if err := s.Present(frame, []image.Rectangle{image.Rect(0, 0, 10, 10)}); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := s.WritePNG(&b); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, _, _ := img.At(5, 5).RGBA(); r>>8 != 0xff || g != 0 {
		t.Errorf("dirty pixel = %v, want red", img.At(5, 5))
	}
	if _, g, _, _ := img.At(20, 20).RGBA(); g>>8 != 0xff {
		t.Errorf("clean pixel = %v, want white (not presented)", img.At(20, 20))
	}
	if got, want := s.Presents(), 2; got != want {
		t.Errorf("Presents() = %d, want %d", got, want)
	}
	if err := s.Present(image.NewRGBA(image.Rect(0, 0, 5, 5)), nil); err == nil {
		t.Error("Present of a frame of the wrong size succeeded")
	}
}

func TestInjectAndClose(t *testing.T) {
	s := New(image.Pt(10, 10))
	ev := display.Event{Kind: display.PointerDown, X: 3, Y: 4}
	if !s.Inject(ev) {
		t.Fatal("Inject failed")
	}
	if got := <-s.Events(); got != ev {
		t.Errorf("event %+v, want %+v", got, ev)
	}
	s.Close()
	if s.Inject(ev) {
		t.Error("Inject after Close succeeded")
	}
	if _, ok := <-s.Events(); ok {
		t.Error("Events still open after Close")
	}
	if err := s.Present(image.NewRGBA(image.Rect(0, 0, 10, 10)), nil); err == nil {
		t.Error("Present after Close succeeded")
	}
}
