//go:build cgo && !noglfw

package glfwscreen_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/glfwscreen"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

func TestMain(m *testing.M) {
	code := 0
	glfwscreen.Main(func() { code = m.Run() })
	os.Exit(code)
}

func TestOpenWithoutDisplayFails(t *testing.T) {
	// No X server listens on this display number.
	t.Setenv("DISPLAY", ":4711")
	t.Setenv("WAYLAND_DISPLAY", "")
	s, err := glfwscreen.Open(glfwscreen.Options{Width: 100, Height: 100})
	if err == nil {
		s.Close()
		t.Skip("a display answered on :4711")
	}
	if !strings.Contains(err.Error(), "DISPLAY") {
		t.Errorf("Open without a display: %v, want an error that names DISPLAY", err)
	}
}

// TestClickUnderXvfb shows a page in a GLFW window on Xvfb, clicks its
// button with xdotool, sees the tap arrive at the widget, and compares a
// screenshot of the window with the frame the engine drew.
func TestClickUnderXvfb(t *testing.T) {
	disp := itest.Env(t, "NHIKIOSK_XVFB_DISPLAY", "Xvfb")
	xdotool := itest.Command(t, "xdotool", "xdotool")
	importCmd := itest.Command(t, "import", "imagemagick")
	font := displaytest.Font(t)
	t.Setenv("DISPLAY", disp)

	title := fmt.Sprintf("nhikiosk-itest-%d", os.Getpid())
	s, err := glfwscreen.Open(glfwscreen.Options{Width: 800, Height: 480, Title: title, Pos: image.Pt(40, 30)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ui, err := display.New(display.Options{Font: font, Catalog: display.NewCatalog(), Size: s.Size(), Lang: display.LangEn})
	if err != nil {
		t.Fatal(err)
	}
	tapped := make(chan struct{}, 4)
	ui.SetPage(&display.Page{ID: "p",
		Header: display.NewHeader("h", display.M("display.strength.strong"), 1, 2),
		Body:   []display.Widget{display.NewLabel("l", display.M("display.strength.medium_strong"))},
		Footer: []display.Widget{display.NewButton("ok", display.M("display.key.enter"), display.Primary, func() { tapped <- struct{}{} })},
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ui.Run(ctx, s) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	win := waitWindow(t, xdotool, title)
	var b image.Rectangle
	do(ui, func() { b = ui.Find("ok").Bounds() })
	cx, cy := (b.Min.X+b.Max.X)/2, (b.Min.Y+b.Max.Y)/2
	run(t, xdotool, "mousemove", "--window", win, fmt.Sprint(cx), fmt.Sprint(cy), "click", "1")
	select {
	case <-tapped:
	case <-time.After(10 * time.Second):
		t.Fatal("the click never reached the button")
	}

	var want *image.RGBA
	do(ui, func() {
		f, _ := ui.Render()
		want = image.NewRGBA(f.Rect)
		copy(want.Pix, f.Pix)
	})
	// The released button is drawn; give the window a moment to swap.
	var got image.Image
	var diff int
	for range 20 {
		time.Sleep(100 * time.Millisecond)
		shot := run(t, importCmd, "-window", win, "png:-")
		got, err = png.Decode(bytes.NewReader(shot))
		if err != nil {
			t.Fatalf("decode screenshot: %v", err)
		}
		if diff = differ(want, got); diff == 0 {
			break
		}
	}
	if got.Bounds().Size() != want.Rect.Size() {
		t.Fatalf("screenshot is %v, frame %v", got.Bounds().Size(), want.Rect.Size())
	}
	if diff > 0 {
		t.Errorf("%d pixels of the window differ from the frame", diff)
	}
}

// differ counts pixels whose colour differs by more than 2 per channel.
func differ(want *image.RGBA, got image.Image) int {
	n := 0
	gb := got.Bounds()
	for y := range want.Rect.Dy() {
		for x := range want.Rect.Dx() {
			r, g, b, _ := got.At(gb.Min.X+x, gb.Min.Y+y).RGBA()
			w := want.RGBAAt(x, y)
			if d := max(dist(uint8(r>>8), w.R), dist(uint8(g>>8), w.G), dist(uint8(b>>8), w.B)); d > 2 {
				n++
			}
		}
	}
	return n
}

func dist(a, b uint8) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

func do(ui *display.UI, f func()) {
	ran := make(chan struct{})
	ui.Do(func() { f(); close(ran) })
	<-ran
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return out
}

func waitWindow(t *testing.T, xdotool, title string) string {
	t.Helper()
	for range 100 {
		out, _ := exec.Command(xdotool, "search", "--name", title).Output()
		if id := strings.TrimSpace(string(out)); id != "" {
			return strings.Fields(id)[0]
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("window %q never appeared", title)
	return ""
}
