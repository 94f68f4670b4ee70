package fbdev

import (
	"context"
	"image"
	"image/color"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/evdev"
	"github.com/nhikiosk/nhikiosk/display/evdev/evdevtest"
	"github.com/nhikiosk/nhikiosk/internal/uevent/ueventtest"
)

// fakeFB makes a file standing in for /dev/fb0 with g's size.
func fakeFB(t *testing.T, g Geometry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fb0")
	if err := os.WriteFile(p, make([]byte, g.Size()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func testFrame(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), uint8((x + y) % 256), 255})
		}
	}
	return img
}

func TestPresentPixelFormats(t *testing.T) {
	bgr24 := Format{BitsPerPixel: 24, Red: Bitfield{0, 8}, Green: Bitfield{8, 8}, Blue: Bitfield{16, 8}}
	for _, tc := range []struct {
		name string
		fmt  Format
		tol  int // quantisation of the format
	}{
		{"RGB565", RGB565, 8},
		{"XRGB8888", XRGB8888, 0},
		{"BGR888", bgr24, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A stride with padding, as real framebuffers often have.
			g := Geometry{Width: 64, Height: 40, Format: tc.fmt}
			g.Stride = g.Width*tc.fmt.BitsPerPixel/8 + 32
			path := fakeFB(t, g)
			s, err := Open(Options{Device: path, Geometry: &g, Console: "-", NoTouchDevices: true, TouchStreams: []TouchStream{{R: eofReader{}}}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			frame := testFrame(g.Width, g.Height)
			if err := s.Present(frame, nil); err != nil {
				t.Fatal(err)
			}
			mem, err := os.ReadFile(path) // what the framebuffer holds
			if err != nil {
				t.Fatal(err)
			}
			for y := range g.Height {
				for x := range g.Width {
					r, gr, b := decode(mem, g, x, y)
					want := frame.RGBAAt(x, y)
					if d := max(absDiff(r, want.R), absDiff(gr, want.G), absDiff(b, want.B)); d > tc.tol {
						t.Fatalf("pixel (%d,%d) = %d,%d,%d, want %v (tolerance %d)", x, y, r, gr, b, want, tc.tol)
					}
				}
			}
			// Partial present touches only the dirty rectangle.
			black := image.NewRGBA(frame.Rect)
			if err := s.Present(black, []image.Rectangle{image.Rect(0, 0, 8, 8)}); err != nil {
				t.Fatal(err)
			}
			snap := s.Snapshot()
			if c := snap.RGBAAt(4, 4); c.R|c.G|c.B != 0 {
				t.Errorf("dirty pixel (4,4) = %v, want black", c)
			}
			if c, want := snap.RGBAAt(40, 30), frame.RGBAAt(40, 30); absDiff(c.R, want.R) > tc.tol {
				t.Errorf("clean pixel (40,30) = %v, want %v", c, want)
			}
		})
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func absDiff(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func TestOpenRejectsBadGeometry(t *testing.T) {
	g := Geometry{Width: 10, Height: 10, Stride: 10, Format: XRGB8888}
	if _, err := Open(Options{Device: fakeFB(t, Geometry{Width: 10, Height: 10, Stride: 40}), Geometry: &g, Console: "-"}); err == nil {
		t.Error("Open with a stride shorter than a line succeeded")
	}
	if _, err := Open(Options{Device: filepath.Join(t.TempDir(), "nofb"), Console: "-"}); err == nil {
		t.Error("Open of a missing device succeeded")
	}
}

func TestParseScreenInfo(t *testing.T) {
	v := make([]byte, 160)
	put := func(b []byte, off int, val uint32) {
		b[off], b[off+1], b[off+2], b[off+3] = byte(val), byte(val>>8), byte(val>>16), byte(val>>24)
	}
	put(v, 0, 800)
	put(v, 4, 480)
	put(v, 24, 16)
	put(v, 32, 11)
	put(v, 36, 5)
	put(v, 44, 5)
	put(v, 48, 6)
	put(v, 56, 0)
	put(v, 60, 5)
	fix := make([]byte, 128)
	long := int(unsafe.Sizeof(uintptr(0)))
	put(fix, (16+long+16+6+3)&^3, 1600)
	g := parseScreenInfo(v, fix)
	want := Geometry{Width: 800, Height: 480, Stride: 1600, Format: RGB565}
	if g != want {
		t.Errorf("parseScreenInfo = %+v, want %+v", g, want)
	}
}

// TestUIOnFramebuffer runs the engine on the framebuffer backend: a touch
// from a fake evdev device taps a button, the device is unplugged
// (ENODEV) and plugged in again, a touch taps it again, and the
// framebuffer file ends up holding the frame the UI drew.
func TestUIOnFramebuffer(t *testing.T) {
	g := Geometry{Width: 800, Height: 480, Stride: 800 * 4, Format: XRGB8888}
	path := fakeFB(t, g)
	tree := evdevtest.NewTree(t)
	uevents := ueventtest.New()
	name := tree.Plug(evdevtest.QEMUTablet)
	s, err := Open(Options{Device: path, Geometry: &g, Console: "-",
		Touch: evdev.Options{SysRoot: tree.Sys, DevRoot: tree.Dev, Uevents: uevents, Open: tree.Open}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ui, err := display.New(display.Options{Font: displaytest.Font(t), Catalog: display.NewCatalog(), Size: s.Size(), DPI: 133})
	if err != nil {
		t.Fatal(err)
	}
	tapped := make(chan struct{}, 1)
	ui.SetPage(&display.Page{ID: "p", Header: display.NewHeader("h", display.M("display.key.enter"), 1, 2),
		Footer: []display.Widget{display.NewButton("ok", display.M("display.key.enter"), display.Primary, func() { tapped <- struct{}{} })}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ui.Run(ctx, s) }()

	var b image.Rectangle
	found := make(chan struct{})
	ui.Do(func() { b = ui.Find("ok").Bounds(); close(found) })
	<-found
	cx, cy := (b.Min.X+b.Max.X)/2, (b.Min.Y+b.Max.Y)/2
	raw := func(v, n int) int32 { return int32(v * 32767 / (n - 1)) }
	tap := func(d *evdevtest.Device) {
		t.Helper()
		if err := d.Send(evdevtest.Tap(raw(cx, 800), raw(cy, 480))...); err != nil {
			t.Fatal(err)
		}
		select {
		case <-tapped:
		case <-time.After(10 * time.Second):
			t.Fatal("the touch never reached the button")
		}
	}
	tap(tree.Opened(t))
	if got := s.TouchDevices(); len(got) != 1 || got[0].DevNode != tree.Node(name) {
		t.Errorf("TouchDevices = %v, want %s", got, tree.Node(name))
	}

	// Unplugged (the kernel says remove) and plugged in again: the new
	// device taps the button too.
	uevents.Send(tree.Remove(name))
	tree.Unplug(name)
	name = tree.Plug(evdevtest.QEMUTablet)
	uevents.Send(tree.Add(name))
	tap(tree.Opened(t))

	shown := make(chan *image.RGBA)
	ui.Do(func() {
		f, _ := ui.Render()
		s.Present(f, nil)
		c := image.NewRGBA(f.Rect)
		copy(c.Pix, f.Pix)
		shown <- c
	})
	want := <-shown
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	mem, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for y := 0; y < g.Height; y += 7 {
		for x := 0; x < g.Width; x += 5 {
			r, gr, bl := decode(mem, g, x, y)
			if w := want.RGBAAt(x, y); r != w.R || gr != w.G || bl != w.B {
				t.Fatalf("framebuffer (%d,%d) = %d,%d,%d, want %v", x, y, r, gr, bl, w)
			}
		}
	}
}

// TestTouchStream reads a fixed event stream with its own calibration.
func TestTouchStream(t *testing.T) {
	g := Geometry{Width: 100, Height: 100, Stride: 400, Format: XRGB8888}
	pr, pw := io.Pipe()
	s, err := Open(Options{Device: fakeFB(t, g), Geometry: &g, Console: "-", NoTouchDevices: true,
		TouchStreams: []TouchStream{{R: pr, Cal: evdev.Calibration{X: evdev.Axis{Max: 4095}, Y: evdev.Axis{Max: 4095}}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	go func() {
		for _, e := range evdevtest.Tap(4095, 0) {
			pw.Write(e)
		}
	}()
	for _, want := range []display.EventKind{display.PointerDown, display.PointerUp} {
		select {
		case ev := <-s.Events():
			if ev.Kind != want || ev.X != 99 || ev.Y != 0 {
				t.Errorf("event %+v, want %v at (99,0)", ev, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no touch from the stream")
		}
	}
	if got := s.TouchDevices(); got != nil {
		t.Errorf("TouchDevices without a watcher = %v", got)
	}
}
