package fbdev

import (
	"context"
	"fmt"
	"image"
	"os"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/evdev"
	"github.com/nhikiosk/nhikiosk/display/evdev/evdevtest"
	"github.com/nhikiosk/nhikiosk/internal/uevent/ueventtest"
)

var rotations = []display.Rotation{display.Rotate0, display.Rotate90, display.Rotate180, display.Rotate270}

// TestPresentRotated: a portrait framebuffer (as Touch Display 2's) with
// the frame turned by each rotation, in each pixel format: the frame has
// the framebuffer's size turned, each of its pixels lands where a panel
// turned that way shows it, a dirty rectangle touches only its pixels,
// and Snapshot gives the frame back.
func TestPresentRotated(t *testing.T) {
	bgr24 := Format{BitsPerPixel: 24, Red: Bitfield{0, 8}, Green: Bitfield{8, 8}, Blue: Bitfield{16, 8}}
	for _, f := range []struct {
		name string
		fmt  Format
		tol  int
	}{{"XRGB8888", XRGB8888, 0}, {"RGB565", RGB565, 8}, {"BGR888", bgr24, 0}} {
		for _, rot := range rotations {
			t.Run(f.name+"/"+rot.String(), func(t *testing.T) {
				g := Geometry{Width: 36, Height: 64, Format: f.fmt}
				g.Stride = g.Width*f.fmt.BitsPerPixel/8 + 16 // padded lines
				path := fakeFB(t, g)
				s, err := Open(Options{Device: path, Geometry: &g, Console: "-", NoTouchDevices: true, Rotation: rot})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				panel := image.Pt(g.Width, g.Height)
				size := s.Size()
				if want := rot.Size(panel); size != want {
					t.Fatalf("Size = %v, want %v", size, want)
				}
				frame := testFrame(size.X, size.Y)
				if err := s.Present(frame, nil); err != nil {
					t.Fatal(err)
				}
				mem, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				for y := range size.Y {
					for x := range size.X {
						q := rot.ToPanel(image.Pt(x, y), panel)
						r, gr, b := decode(mem, g, q.X, q.Y)
						want := frame.RGBAAt(x, y)
						if d := max(absDiff(r, want.R), absDiff(gr, want.G), absDiff(b, want.B)); d > f.tol {
							t.Fatalf("frame (%d,%d) on the panel at %v = %d,%d,%d, want %v", x, y, q, r, gr, b, want)
						}
					}
				}
				// The frame's top-left corner, where the panel turned so shows it.
				corner := map[display.Rotation]image.Point{display.Rotate0: {0, 0},
					display.Rotate90: {g.Width - 1, 0}, display.Rotate180: {g.Width - 1, g.Height - 1},
					display.Rotate270: {0, g.Height - 1}}[rot]
				if r, gr, b := decode(mem, g, corner.X, corner.Y); absDiff(r, frame.Pix[0]) > f.tol ||
					absDiff(gr, frame.Pix[1]) > f.tol || absDiff(b, frame.Pix[2]) > f.tol {
					t.Errorf("panel %v = %d,%d,%d, want the frame's top-left %v", corner, r, gr, b, frame.RGBAAt(0, 0))
				}
				if got := s.Snapshot(); !sameImage(got, frame, f.tol) {
					t.Error("Snapshot differs from the frame")
				}

				black := image.NewRGBA(frame.Rect)
				dirty := image.Rect(2, 3, 9, 7)
				if err := s.Present(black, []image.Rectangle{dirty}); err != nil {
					t.Fatal(err)
				}
				snap := s.Snapshot()
				for y := range size.Y {
					for x := range size.X {
						c, in := snap.RGBAAt(x, y), image.Pt(x, y).In(dirty)
						if in && c.R|c.G|c.B != 0 {
							t.Fatalf("dirty (%d,%d) = %v, want black", x, y, c)
						}
						if w := frame.RGBAAt(x, y); !in && absDiff(c.R, w.R) > f.tol {
							t.Fatalf("clean (%d,%d) = %v, want %v", x, y, c, w)
						}
					}
				}
			})
		}
	}
	if _, err := Open(Options{Device: fakeFB(t, Geometry{Width: 4, Height: 4, Stride: 16}), Console: "-", Rotation: 45}); err == nil {
		t.Error("Open with rotation 45 succeeded")
	}
}

func sameImage(a, b *image.RGBA, tol int) bool {
	if a.Rect != b.Rect {
		return false
	}
	for i := range a.Pix {
		if i%4 != 3 && absDiff(a.Pix[i], b.Pix[i]) > tol {
			return false
		}
	}
	return true
}

// TestUIRotated: the engine on a 720×1280 portrait framebuffer with a
// goodix panel, the frame turned: a finger on the panel where the
// button is shown taps it, for every rotation.
func TestUIRotated(t *testing.T) {
	for _, rot := range rotations {
		t.Run(rot.String(), func(t *testing.T) {
			g := Geometry{Width: 720, Height: 1280, Stride: 720 * 4, Format: XRGB8888}
			tree := evdevtest.NewTree(t)
			tree.Plug(evdevtest.Goodix)
			s, err := Open(Options{Device: fakeFB(t, g), Geometry: &g, Console: "-", Rotation: rot,
				Touch: evdev.Options{SysRoot: tree.Sys, DevRoot: tree.Dev, Uevents: ueventtest.New(), Open: tree.Open}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			ui, err := display.New(display.Options{Font: displaytest.Font(t), Catalog: display.NewCatalog(), Size: s.Size(), DPI: 200})
			if err != nil {
				t.Fatal(err)
			}
			tapped := make(chan string, 2)
			button := func(id string) display.Widget {
				return display.NewButton(id, display.M("display.key.enter"), display.Primary, func() { tapped <- id })
			}
			ui.SetPage(&display.Page{ID: "p", Header: display.NewHeader("h", display.M("display.key.enter"), 1, 2),
				Footer: []display.Widget{button("left"), button("right")}})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- ui.Run(ctx, s) }()
			defer func() {
				cancel()
				<-done
			}()
			d := tree.Opened(t)
			for _, id := range []string{"right", "left"} {
				var b image.Rectangle
				found := make(chan struct{})
				ui.Do(func() { b = ui.Find(id).Bounds(); close(found) })
				<-found
				q := rot.ToPanel(image.Pt((b.Min.X+b.Max.X)/2, (b.Min.Y+b.Max.Y)/2), image.Pt(g.Width, g.Height))
				if err := d.Send(evdevtest.Tap(int32(q.X), int32(q.Y))...); err != nil {
					t.Fatal(err)
				}
				select {
				case got := <-tapped:
					if got != id {
						t.Fatalf("touch at the panel's %v tapped %q, want %q", q, got, id)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("the touch at the panel's %v never reached %q", q, id)
				}
			}
		})
	}
}

// BenchmarkPresent: a full frame onto Touch Display 2's 720×1280
// framebuffer, as is and turned a quarter.
func BenchmarkPresent(b *testing.B) {
	for _, f := range []struct {
		name string
		fmt  Format
		bpp  int
	}{{"XRGB8888", XRGB8888, 4}, {"RGB565", RGB565, 2}} {
		for _, rot := range []display.Rotation{display.Rotate0, display.Rotate90} {
			b.Run(fmt.Sprintf("%s/%v", f.name, int(rot)), func(b *testing.B) {
				g := Geometry{Width: 720, Height: 1280, Stride: 720 * f.bpp, Format: f.fmt}
				mem := make([]byte, g.Size())
				size := rot.Size(image.Pt(g.Width, g.Height))
				frame := testFrame(size.X, size.Y)
				b.SetBytes(int64(len(frame.Pix)))
				for b.Loop() {
					if rot == display.Rotate0 {
						convert(mem, g, frame, frame.Rect)
					} else {
						convertRotated(mem, g, frame, frame.Rect, rot)
					}
				}
			})
		}
	}
}
