package main

import (
	"bytes"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"log/slog"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// recScreen is a display.Screen that keeps a copy of what it last
// presented, for the fleet's screenshot and self-test. It copies only the
// dirty rectangles, on the display's goroutine.
type recScreen struct {
	display.Screen
	mu       sync.Mutex
	frame    *image.RGBA
	presents uint64
	last     time.Time
	lastErr  error
	errs     uint64
	now      func() time.Time
	log      *slog.Logger
}

func newRecScreen(s display.Screen, log *slog.Logger) *recScreen {
	return &recScreen{Screen: s, now: time.Now, log: log}
}

// Present presents the frame and keeps a copy of it.
func (r *recScreen) Present(frame *image.RGBA, dirty []image.Rectangle) error {
	err := r.Screen.Present(frame, dirty)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frame == nil || r.frame.Rect != frame.Rect {
		r.frame = image.NewRGBA(frame.Rect)
		dirty = []image.Rectangle{frame.Rect}
	}
	for _, d := range dirty {
		draw.Draw(r.frame, d, frame, d.Min, draw.Src)
	}
	if r.presents == 0 && err == nil {
		r.log.Info("first frame presented", "size", frame.Rect.Size().String())
	}
	r.presents++
	r.last = r.now()
	r.lastErr = err
	if err != nil {
		r.errs++
	}
	return err
}

// presenting reports whether a frame was presented and the last one
// without error; kind says why not.
func (r *recScreen) presenting() (ok bool, kind fleet.Token) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.presents == 0:
		return false, "no_frame"
	case r.lastErr != nil:
		return false, "present_failed"
	}
	return true, ""
}

// errors returns how many presents failed.
func (r *recScreen) errors() uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs
}

// copyFrame returns a copy of the last presented frame, or nil.
func (r *recScreen) copyFrame() *image.RGBA {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.frame == nil {
		return nil
	}
	c := image.NewRGBA(r.frame.Rect)
	copy(c.Pix, r.frame.Pix)
	return c
}

// encodeShot encodes img as PNG, halving it until it fits in max bytes.
func encodeShot(img *image.RGBA, max int) ([]byte, error) {
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	for {
		var b bytes.Buffer
		if err := enc.Encode(&b, img); err != nil {
			return nil, fmt.Errorf("encode screenshot: %w", err)
		}
		if b.Len() <= max {
			return b.Bytes(), nil
		}
		if img.Rect.Dx() < 64 || img.Rect.Dy() < 64 {
			return nil, fmt.Errorf("screenshot of %d bytes at %v: %w", b.Len(), img.Rect.Size(), fleet.ErrUnsupported)
		}
		img = halve(img)
	}
}

// halve scales img to half its size, averaging 2×2 pixels.
func halve(img *image.RGBA) *image.RGBA {
	b := img.Rect
	out := image.NewRGBA(image.Rect(0, 0, b.Dx()/2, b.Dy()/2))
	for y := range out.Rect.Dy() {
		for x := range out.Rect.Dx() {
			o := out.PixOffset(x, y)
			for c := range 4 {
				var sum int
				for _, d := range [4][2]int{{0, 0}, {1, 0}, {0, 1}, {1, 1}} {
					sum += int(img.Pix[img.PixOffset(b.Min.X+2*x+d[0], b.Min.Y+2*y+d[1])+c])
				}
				out.Pix[o+c] = uint8(sum / 4)
			}
		}
	}
	return out
}
