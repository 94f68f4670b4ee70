package display

import (
	"image"
	"image/color"
	"math"
	"time"
)

// Widget is one element of a screen. Widgets are laid out top to bottom by
// their containers: Measure gives the height a widget needs at a width
// (text re-flows), Layout places it, Draw paints it into the part of the
// frame dst covers, Handle reacts to events routed to it.
//
// Every method is called from the goroutine that owns the UI; widgets are
// not safe for concurrent use.
type Widget interface {
	// ID is the widget's stable name, used by tests and the wizard to find
	// it ("name", "next"). Containers may have an empty ID.
	ID() string
	Measure(c *Ctx, width int) int
	Layout(c *Ctx, r image.Rectangle)
	Bounds() image.Rectangle
	Draw(c *Ctx, dst *image.RGBA)
	// Handle reacts to ev and reports whether it used it.
	Handle(c *Ctx, ev Event) bool
	Children() []Widget
}

// Base holds what every widget has: its ID and its place on screen. Embed
// it to get ID, Bounds and Children.
type Base struct {
	Name string
	R    image.Rectangle
}

// ID returns the widget's ID.
func (b *Base) ID() string { return b.Name }

// Bounds returns where the widget was last laid out.
func (b *Base) Bounds() image.Rectangle { return b.R }

// Children returns none; containers override it.
func (b *Base) Children() []Widget { return nil }

// Handle ignores every event; interactive widgets override it.
func (b *Base) Handle(*Ctx, Event) bool { return false }

// Layout records r.
func (b *Base) Layout(_ *Ctx, r image.Rectangle) { b.R = r }

// Wiper is a widget holding personal data it can zero (fields).
type Wiper interface{ Wipe() }

// TextRun is one piece of text a widget drew, for checks that no text is
// clipped or overlaps: Ink is the text's extent, Box the space the widget
// gave it, Clip the part of the frame it was drawn into.
type TextRun struct {
	Widget    string
	Text      string
	Ink, Box  image.Rectangle
	Clip      image.Rectangle
	Layer     int
	FontPx    int
	Truncated bool
}

// Ctx is what widgets get from the UI: units, theme, language, fonts,
// painting, and ways to ask for a repaint or a new layout.
type Ctx struct {
	ui    *UI
	P     Painter
	layer int
	audit *[]TextRun
}

// Theme returns the current theme.
func (c *Ctx) Theme() *Theme { return &c.ui.theme }

// Lang returns the current language.
func (c *Ctx) Lang() string { return c.ui.lang }

// Now returns the UI's clock.
func (c *Ctx) Now() time.Time { return c.ui.now() }

// Dp converts density-independent units to pixels.
func (c *Ctx) Dp(v float64) int { return int(math.Round(v * c.ui.scale)) }

// Target returns the smallest side of a touch target in pixels: 56 dp, and
// never less than 9 mm at the configured DPI.
func (c *Ctx) Target() int { return max(c.Dp(56), c.ui.MinTargetPx()) }

// FontPx returns the pixel size of text of dp size in the current theme.
func (c *Ctx) FontPx(dp float64) int { return c.Dp(dp * c.ui.theme.TextScale) }

// T returns a catalog text in the current language.
func (c *Ctx) T(key string, args ...any) string { return c.ui.cat.Text(c.ui.lang, key, args...) }

// Font returns the UI's font.
func (c *Ctx) Font() *Font { return c.ui.font }

// Invalidate asks for r to be repainted.
func (c *Ctx) Invalidate(r image.Rectangle) { c.ui.invalidate(r) }

// Relayout asks for a new layout (a widget's height changed).
func (c *Ctx) Relayout() { c.ui.needLayout = true }

// WakeAt asks for the animators to be run again at t (the next frame of a
// spinner, the next second of a countdown). An Animator calls it from
// Animate each time it wants another turn; the UI loop otherwise sleeps
// until input arrives or Do is called.
func (c *Ctx) WakeAt(t time.Time) {
	if u := c.ui; u.wake.IsZero() || t.Before(u.wake) {
		u.wake = t
	}
}

// Focus gives the keyboard to f (nil closes the keyboard).
func (c *Ctx) Focus(f *Field) { c.ui.setFocus(f) }

// Focused returns the field that has the keyboard.
func (c *Ctx) Focused() *Field { return c.ui.focus }

// Text draws one line s at font size px with its box's top-left at
// (box.Min) vertically centred in box, aligned by align (0 left, 1 centre,
// 2 right), and records it for audits.
func (c *Ctx) Text(dst *image.RGBA, id, s string, px int, box image.Rectangle, align int, col color.RGBA) {
	f := c.ui.font
	m := f.Metrics(px)
	w := f.Width(s, px)
	x := box.Min.X
	switch align {
	case 1:
		x += (box.Dx() - w) / 2
	case 2:
		x = box.Max.X - w
	}
	top := box.Min.Y + (box.Dy()-m.Height)/2
	base := top + (m.Height-m.Ascent-m.Descent)/2 + m.Ascent
	if c.audit != nil && s != "" && box.Overlaps(dst.Bounds()) {
		*c.audit = append(*c.audit, TextRun{Widget: id, Text: s, FontPx: px, Layer: c.layer,
			Ink: image.Rect(x, base-m.Ascent, x+w, base+m.Descent), Box: box, Clip: dst.Bounds()})
	}
	if box.Overlaps(dst.Bounds()) {
		f.Draw(dst, x, base, s, px, col)
	}
}

// Para draws wrapped lines (from Wrap) top-aligned in box.
func (c *Ctx) Para(dst *image.RGBA, id string, lines []string, px int, box image.Rectangle, align int, col color.RGBA) {
	lh := c.ui.font.Metrics(px).Height
	for i, l := range lines {
		r := image.Rect(box.Min.X, box.Min.Y+i*lh, box.Max.X, box.Min.Y+(i+1)*lh)
		c.Text(dst, id, l, px, r, align, col)
	}
}

// LineHeight returns the line height at px.
func (c *Ctx) LineHeight(px int) int { return c.ui.font.Metrics(px).Height }

// Wrap breaks s into lines no wider than w at px: between words for Latin
// text, between any two characters for CJK, inside a word only when the
// word alone is too wide.
func (c *Ctx) Wrap(s string, px, w int) []string {
	return wrap(c.ui.font, s, px, w)
}
