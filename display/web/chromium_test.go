package web

import (
	"context"
	"fmt"
	"image"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/gallery"
	"github.com/nhikiosk/nhikiosk/internal/itest/chromium"
)

// kioskUnderTest is the gallery's form page (the e-mail keyboard open) run
// by display.UI on the web backend, next to the same page on the
// headless backend as the reference for every pixel the page shows.
type kioskUnderTest struct {
	t       testing.TB
	s       *Screen
	ref     *displaytest.Harness
	ctx     context.Context // the browser's tab
	pressed chan string
}

func startKiosk(t testing.TB, size image.Point, page string) *kioskUnderTest {
	return startKioskWith(t, size, func(ui *display.UI) { gallery.Show(ui, page) })
}

// startKioskWith is startKiosk with the pages show puts on a UI.
func startKioskWith(t testing.TB, size image.Point, show func(ui *display.UI)) *kioskUnderTest {
	t.Helper()
	cat := display.NewCatalog()
	if err := gallery.AddMessages(cat); err != nil {
		t.Fatal(err)
	}
	k := &kioskUnderTest{t: t, pressed: make(chan string, 4)}
	k.ref = displaytest.New(t, size, cat, display.DefaultTheme(), display.LangEn)
	show(k.ref.UI)
	k.ref.Step()

	ui, err := display.New(display.Options{Font: displaytest.Font(t), Catalog: cat, Theme: display.DefaultTheme(),
		Lang: display.LangEn, Size: size, DPI: 96, Now: k.ref.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	show(ui)
	k.s, err = Listen(Options{Size: size, Title: "web display test", Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Controls: []Control{{ID: "hello", Label: "Hello 你好", Do: func() { k.pressed <- "hello" }}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ui.Run(ctx, k.s) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("UI.Run: %v", err)
		}
		k.s.Close()
	})
	// The strip is 52 CSS pixels: a viewport that much taller than the
	// panel shows the panel at 1:1.
	k.ctx = chromium.New(t, size.X, size.Y+52)
	k.do("open the page", chromedp.EmulateViewport(int64(size.X), int64(size.Y+52)), chromedp.Navigate(k.s.URL()))
	k.wait("the page connected and drew", `kiosk.connected && kiosk.frames > 0`)
	return k
}

func (k *kioskUnderTest) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(k.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		k.t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](k *kioskUnderTest, js string) T {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(k.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		k.t.Fatalf("evaluate %.60q: %v", js, err)
	}
	return v
}

func (k *kioskUnderTest) wait(what, cond string) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(k.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
		k.t.Fatalf("%s (%s): %v", what, cond, err)
	}
}

// wantSame waits until the page's canvas equals the headless backend's
// frame, pixel for pixel.
func (k *kioskUnderTest) wantSame(what string) {
	k.t.Helper()
	if err := chromium.WaitCanvas(k.ctx, "screen", k.ref.Screen.Frame(), 10*time.Second); err != nil {
		k.t.Fatalf("%s: %v", what, err)
	}
}

// at returns where the centre of widget id is on the page, in CSS pixels.
func (k *kioskUnderTest) at(id string) (float64, float64) {
	k.t.Helper()
	b := k.ref.Find(id).Bounds()
	r := eval[struct{ Left, Top, Width, Height float64 }](k,
		`(() => { const r = document.getElementById("screen").getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width, height: r.height}; })()`)
	size := k.s.Size()
	return r.Left + (float64(b.Min.X+b.Max.X)/2)*r.Width/float64(size.X), r.Top + (float64(b.Min.Y+b.Max.Y)/2)*r.Height/float64(size.Y)
}

// TestChromium drives the page in headless Chromium: it shows exactly the
// headless backend's frame, and a mouse click, a touch tap and typed keys
// reach the kiosk as its own input; in a window of another shape the
// panel keeps its aspect ratio and taps still land; the strip's control
// runs.
func TestChromium(t *testing.T) {
	k := startKiosk(t, image.Pt(800, 480), "form")
	k.wantSame("first frame")

	x, y := k.at("key.q")
	k.do("click key q", chromedp.MouseClickXY(x, y))
	k.ref.Tap("key.q")
	k.wantSame("after a mouse click on q")

	x, y = k.at("key.w")
	k.do("touch key w", chromedp.TapXY(x, y))
	k.ref.Tap("key.w")
	k.wantSame("after a touch on w")

	k.do("type x and a backspace on the keyboard", chromedp.KeyEvent("xz"), chromedp.KeyEvent("\b"))
	for _, ev := range []display.Event{{Kind: display.KeyPress, Rune: 'x'}, {Kind: display.KeyPress, Rune: 'z'},
		{Kind: display.KeyPress, Key: display.KeyBackspace}} {
		k.ref.Screen.Inject(ev)
	}
	k.ref.Step()
	k.wantSame("after typing")
	if got := string(k.ref.Find("email").(*display.Field).Value()); !strings.HasSuffix(got, "qwx") {
		t.Errorf("reference field = %q, want …qwx", got)
	}

	k.do("a square window", chromedp.EmulateViewport(600, 600))
	k.wait("the panel refitted", `document.getElementById("screen").getBoundingClientRect().width === 600`)
	r := eval[struct{ Width, Height float64 }](k,
		`(() => { const r = document.getElementById("screen").getBoundingClientRect(); return {width: r.width, height: r.height}; })()`)
	if r.Width != 600 || r.Height != 360 {
		t.Errorf("panel shown %v×%v in a 600×600 window, want 600×360 (800×480 scaled)", r.Width, r.Height)
	}
	x, y = k.at("key.e")
	k.do("click key e, scaled", chromedp.MouseClickXY(x, y))
	k.ref.Tap("key.e")
	k.wantSame("after a click in the scaled panel")

	k.do("press the strip's control", chromedp.Click(chromedp.CSS(`#control-hello`)))
	select {
	case got := <-k.pressed:
		if got != "hello" {
			t.Errorf("control ran %q", got)
		}
	case <-time.After(10 * time.Second):
		t.Error("the strip's control did not run")
	}
	lat := eval[[]float64](k, `kiosk.latencies`)
	t.Logf("page: %d batches, %d bytes; input to next frame drawn (ms): %s",
		eval[int](k, `kiosk.frames`), eval[int](k, `kiosk.bytes`), fmtMs(lat))
}

// TestChromiumSeen: a screenshot of the page at 1:1 is the frame, so what
// the browser shows is what the kiosk drew.
func TestChromiumSeen(t *testing.T) {
	k := startKiosk(t, image.Pt(800, 480), "choose")
	k.wantSame("first frame")
	ctx, cancel := context.WithTimeout(k.ctx, 20*time.Second)
	defer cancel()
	b, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(`#screen`)))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromium.DecodePNG(b)
	if err != nil {
		t.Fatal(err)
	}
	if n := chromium.Differ(shot, k.ref.Screen.Frame()); n != 0 {
		t.Errorf("%d pixels of the screenshot differ from the headless frame", n)
	}
}

func fmtMs(v []float64) string {
	var b strings.Builder
	for i, x := range v {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%.1f", x)
	}
	return b.String()
}
