// Package displaytest drives a display.UI on the headless backend for
// tests: find a widget by ID and tap it, type on the on-screen keyboards,
// render to PNG, compare with golden files, and check that no text is
// clipped or overlaps. It is for tests only.
package displaytest

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

var (
	fontOnce sync.Once
	font     *display.Font
	fontErr  error
)

// Font returns the Debian CJK font (config.DebianFont, face
// config.DebianFontIndex), opened once per test binary; the test skips (or
// fails in CI) when fonts-noto-cjk is not installed.
func Font(t testing.TB) *display.Font {
	t.Helper()
	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	fontOnce.Do(func() { font, fontErr = display.OpenFont(config.DebianFont, config.DebianFontIndex) })
	if fontErr != nil {
		t.Fatal(fontErr)
	}
	return font
}

// Clock is a settable clock for countdowns and spinners.
type Clock struct{ T time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.T }

// Harness is a UI on a headless screen.
type Harness struct {
	T      testing.TB
	UI     *display.UI
	Screen *headless.Screen
	Clock  *Clock
	// Mirror, if set, gets the pointer events of every tap and drag once
	// the UI has handled them, so a test can repeat them on another
	// kiosk drawing the same screens (the VM test's, through QEMU).
	Mirror func([]display.Event)
}

// New returns a harness of size pixels with the font, a catalog from cat
// (display.NewCatalog if nil), the theme and language given, at 96 DPI and
// a clock fixed at 2026-01-02 03:04:05 UTC.
func New(t testing.TB, size image.Point, cat *display.Catalog, theme display.Theme, lang string) *Harness {
	t.Helper()
	if cat == nil {
		cat = display.NewCatalog()
	}
	clk := &Clock{T: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	ui, err := display.New(display.Options{Font: Font(t), Catalog: cat, Theme: theme, Lang: lang, Size: size, DPI: 96, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &Harness{T: t, UI: ui, Screen: headless.New(size), Clock: clk}
}

// Step handles every injected event, renders and presents, as one turn of
// display.UI.Run does.
func (h *Harness) Step() {
	h.T.Helper()
	for {
		select {
		case ev := <-h.Screen.Events():
			h.UI.Handle(ev)
			continue
		default:
		}
		break
	}
	h.UI.Tick()
	frame, dirty := h.UI.Render()
	if len(dirty) > 0 {
		if err := h.Screen.Present(frame, dirty); err != nil {
			h.T.Fatal(err)
		}
	}
}

// Find returns the widget with id or fails the test.
func (h *Harness) Find(id string) display.Widget {
	h.T.Helper()
	w := h.UI.Find(id)
	if w == nil {
		h.T.Fatalf("no widget %q on page %q", id, h.UI.Page().ID)
	}
	return w
}

// Tap scrolls the widget id into view as a citizen would, then presses and
// releases at its centre through the screen's input queue.
func (h *Harness) Tap(id string) {
	h.T.Helper()
	w := h.Find(id)
	h.UI.Reveal(w)
	h.Step()
	p := center(w.Bounds().Intersect(image.Rectangle{Max: h.UI.Size()}))
	h.inject(display.Event{Kind: display.PointerDown, X: p.X, Y: p.Y}, display.Event{Kind: display.PointerUp, X: p.X, Y: p.Y})
}

// inject hands evs to the UI, steps, and tells Mirror.
func (h *Harness) inject(evs ...display.Event) {
	h.T.Helper()
	for _, ev := range evs {
		h.Screen.Inject(ev)
	}
	h.Step()
	if h.Mirror != nil {
		h.Mirror(evs)
	}
}

func center(r image.Rectangle) image.Point {
	return image.Pt((r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2)
}

// Drag drags from (x, y) by dy pixels in steps, as a finger scrolling.
func (h *Harness) Drag(x, y, dy int) {
	h.T.Helper()
	evs := []display.Event{{Kind: display.PointerDown, X: x, Y: y}}
	for i := 1; i <= 8; i++ {
		evs = append(evs, display.Event{Kind: display.PointerMove, X: x, Y: y + dy*i/8})
	}
	h.inject(append(evs, display.Event{Kind: display.PointerUp, X: x, Y: y + dy})...)
}

// Type types s on the on-screen keyboard that is open, switching shift and
// the symbols layer as a person would.
func (h *Harness) Type(s string) {
	h.T.Helper()
	for _, tok := range keyTokens(s) {
		h.typeOne(tok)
	}
}

func keyTokens(s string) []string {
	var toks []string
	for len(s) > 0 {
		matched := false
		for _, e := range []string{".com.tw", ".gov.tw", ".edu.tw", ".com"} {
			if strings.HasPrefix(s, e) {
				toks, s, matched = append(toks, e), s[len(e):], true
				break
			}
		}
		if !matched {
			r := []rune(s)[0]
			toks, s = append(toks, string(r)), s[len(string(r)):]
		}
	}
	return toks
}

func (h *Harness) typeOne(k string) {
	h.T.Helper()
	id := "key." + k
	if k == " " {
		id = "key.space"
	}
	switch {
	case h.UI.Find(id) != nil:
		h.Tap(id)
		return
	case h.UI.Find("key.shift") != nil:
		h.Tap("key.shift")
		if h.UI.Find(id) != nil {
			h.Tap(id) // shift is one-shot
			return
		}
		h.Tap("key.shift")
	}
	if h.UI.Find("key.symbols") != nil {
		h.Tap("key.symbols")
		if h.UI.Find(id) != nil {
			h.Tap(id)
			h.Tap("key.letters2")
			return
		}
		h.Tap("key.letters2")
	}
	h.T.Fatalf("no key types %q", k)
}

// CheckText fails the test for every piece of text that does not fit the
// box its widget gave it, or overlaps another piece in the same layer
// where both are visible, or sits outside the frame.
func CheckText(t testing.TB, label string, runs []display.TextRun, frame image.Rectangle) {
	t.Helper()
	if len(runs) == 0 {
		t.Errorf("%s: no text drawn", label)
	}
	for i, r := range runs {
		if !r.Ink.In(r.Box) {
			t.Errorf("%s: %s %q: text %v does not fit its box %v", label, r.Widget, r.Text, r.Ink, r.Box)
		}
		vis := r.Ink.Intersect(r.Clip)
		if !vis.Empty() && !vis.In(frame) {
			t.Errorf("%s: %s %q: text %v outside the frame %v", label, r.Widget, r.Text, vis, frame)
		}
		for _, o := range runs[i+1:] {
			ov := o.Ink.Intersect(o.Clip)
			if o.Layer == r.Layer && vis.Overlaps(ov) {
				t.Errorf("%s: %s %q %v overlaps %s %q %v", label, r.Widget, r.Text, vis, o.Widget, o.Text, ov)
			}
		}
	}
}

// PNG renders the screen as PNG bytes.
func (h *Harness) PNG() []byte {
	h.T.Helper()
	h.Step()
	var b bytes.Buffer
	if err := h.Screen.WritePNG(&b); err != nil {
		h.T.Fatal(err)
	}
	return b.Bytes()
}

// Golden compares the screen with testdata/<name>.png, or rewrites that
// file when update is set. A mismatch writes the frame into the test's
// temp dir and names it.
func (h *Harness) Golden(name string, update bool) {
	h.T.Helper()
	h.Step()
	path := filepath.Join("testdata", name+".png")
	if update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			h.T.Fatal(err)
		}
		if err := os.WriteFile(path, h.PNG(), 0o644); err != nil {
			h.T.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		h.T.Fatalf("golden %s: %v (run with -update to create it)", path, err)
	}
	wimg, err := png.Decode(bytes.NewReader(want))
	if err != nil {
		h.T.Fatalf("golden %s: %v", path, err)
	}
	if d := DiffImages(wimg, h.Screen.Frame()); d != "" {
		out := filepath.Join(h.T.TempDir(), name+".png")
		os.WriteFile(out, h.PNG(), 0o644)
		h.T.Errorf("%s: %s; got written to %s (run with -update if intended)", path, d, out)
	}
}

// Diff compares two PNGs pixel by pixel and describes the difference, or
// returns "" when they are equal.
func Diff(a, b []byte) string {
	ia, err := png.Decode(bytes.NewReader(a))
	if err != nil {
		return fmt.Sprintf("decode want: %v", err)
	}
	ib, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return fmt.Sprintf("decode got: %v", err)
	}
	return DiffImages(ia, ib)
}

// DiffImages compares two images pixel by pixel and describes the
// difference, or returns "" when they are equal.
func DiffImages(ia, ib image.Image) string {
	if a, ok := ia.(*image.RGBA); ok {
		if b, ok := ib.(*image.RGBA); ok && a.Rect == b.Rect && bytes.Equal(a.Pix, b.Pix) {
			return ""
		}
	}
	if ia.Bounds() != ib.Bounds() {
		return fmt.Sprintf("size %v, want %v", ib.Bounds(), ia.Bounds())
	}
	n, first := 0, image.Point{}
	r := ia.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ia.At(x, y) != ib.At(x, y) {
				if n == 0 {
					first = image.Pt(x, y)
				}
				n++
			}
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d pixels differ, first at %v", n, first)
}
