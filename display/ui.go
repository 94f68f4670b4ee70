package display

import (
	"fmt"
	"image"
	"math"
	"time"
)

// Options configure a UI.
type Options struct {
	Font    *Font
	Catalog *Catalog
	Theme   Theme
	Lang    string
	// Size of the frame in pixels.
	Size image.Point
	// DPI of the panel; touch targets stay at least 9 mm at it.
	DPI float64
	// Now is the clock for countdowns and animation (time.Now if nil).
	Now func() time.Time
}

// UI owns one screen's worth of widgets and the frame they are drawn into.
// It lays out the current Page (header, scrolling body, footer or
// on-screen keyboard) and a modal Dialog over it, routes input, and
// repaints only what changed.
//
// A UI is not safe for concurrent use: call its methods from one goroutine
// (the one running Run, or through Do).
type UI struct {
	font  *Font
	cat   *Catalog
	theme Theme
	lang  string
	dpi   float64
	scale float64
	now   func() time.Time
	ctx   Ctx

	frame      *image.RGBA
	dirty      []image.Rectangle
	needLayout bool

	page   *Page
	body   *ScrollView
	footer *Row
	dialog *Dialog
	focus  *Field
	qwerty *Keyboard
	keypad *Keypad
	kbd    Widget // the keyboard shown, or nil

	ptr    pointerState
	doq    chan func()
	onLang []func(string)
	// nav is the widget the tactile keys' focus is on (nav.go).
	nav   Widget
	onNav []func(NavEvent)
	// wake is when an animator asked to run next (Ctx.WakeAt); zero:
	// nothing animates, Run sleeps until input or Do.
	wake time.Time
}

// ReferenceSize is the layout's design size in dp for landscape panels:
// one dp is one pixel on an 800×480 panel, and larger panels scale up so
// the same description fills them (1280×800 → 1.6).
var ReferenceSize = image.Pt(800, 480)

// PortraitReference is the design size for portrait panels: 600 dp wide,
// so a 1080×1920 lobby screen (1.8) gets text large enough to read
// standing, and the keyboard keeps wide keys.
var PortraitReference = image.Pt(600, 960)

// New returns a UI drawing into a frame of o.Size.
func New(o Options) (*UI, error) {
	if o.Font == nil || o.Catalog == nil {
		return nil, fmt.Errorf("display: new UI: font and catalog are required")
	}
	if o.Size.X <= 0 || o.Size.Y <= 0 {
		return nil, fmt.Errorf("display: new UI: size %v", o.Size)
	}
	if o.Theme.TextScale == 0 {
		o.Theme = DefaultTheme()
	}
	if o.Lang == "" {
		o.Lang = LangZhTW
	}
	if o.DPI <= 0 {
		o.DPI = 96
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	u := &UI{font: o.Font, cat: o.Catalog, theme: o.Theme, lang: o.Lang, dpi: o.DPI, now: o.Now,
		doq: make(chan func(), 16)}
	u.ctx.ui = u
	u.qwerty = NewKeyboard()
	u.keypad = NewKeypad()
	u.Resize(o.Size)
	u.SetPage(&Page{})
	return u, nil
}

// Resize changes the frame size (a rotated or replaced panel).
func (u *UI) Resize(size image.Point) {
	u.frame = image.NewRGBA(image.Rectangle{Max: size})
	ref := ReferenceSize
	if size.Y > size.X {
		ref = PortraitReference
	}
	u.scale = math.Min(float64(size.X)/float64(ref.X), float64(size.Y)/float64(ref.Y))
	u.needLayout = true
}

// Now returns the UI's clock.
func (u *UI) Now() time.Time { return u.now() }

// Size returns the frame size.
func (u *UI) Size() image.Point { return u.frame.Rect.Max }

// MinTargetPx is 9 mm at the configured DPI, the smallest touch target.
func (u *UI) MinTargetPx() int { return int(math.Ceil(9 / 25.4 * u.dpi)) }

// Scale returns pixels per dp.
func (u *UI) Scale() float64 { return u.scale }

// Catalog returns the message catalog.
func (u *UI) Catalog() *Catalog { return u.cat }

// Lang returns the current language.
func (u *UI) Lang() string { return u.lang }

// SetLang switches the language at once; every widget keeps its state.
func (u *UI) SetLang(lang string) {
	u.lang = lang
	u.needLayout = true
	for _, f := range u.onLang {
		f(lang)
	}
}

// OnLang registers f to be called after every language switch.
func (u *UI) OnLang(f func(lang string)) { u.onLang = append(u.onLang, f) }

// Theme returns the current theme.
func (u *UI) Theme() Theme { return u.theme }

// SetTheme switches the theme at once; every widget keeps its state.
func (u *UI) SetTheme(t Theme) {
	u.theme = t
	u.needLayout = true
}

// Page is one screen: a header, a scrolling body, and a footer row of
// buttons that gives way to the on-screen keyboard while a field has focus.
type Page struct {
	ID     string
	Header *Header
	Body   []Widget
	Footer []Widget
}

// SetPage shows p, dropping focus and scroll of the page before.
func (u *UI) SetPage(p *Page) {
	u.page = p
	u.body = NewScrollView("body", NewColumn("", p.Body...))
	u.footer = NewRow("footer", p.Footer...)
	u.focus = nil
	u.kbd = nil
	u.nav = nil
	u.ptr = pointerState{}
	u.needLayout = true
}

// Page returns the page shown.
func (u *UI) Page() *Page { return u.page }

// ShowDialog puts d over the page; input goes only to d until it closes.
func (u *UI) ShowDialog(d *Dialog) {
	u.dialog = d
	u.nav = nil
	d.ui = u
	u.ptr = pointerState{}
	u.needLayout = true
}

// CloseDialog removes the dialog, if any.
func (u *UI) CloseDialog() {
	u.dialog = nil
	u.nav = nil
	u.needLayout = true
}

// Dialog returns the dialog shown, or nil.
func (u *UI) Dialog() *Dialog { return u.dialog }

func (u *UI) setFocus(f *Field) {
	if f == u.focus {
		return
	}
	if u.focus != nil {
		u.focus.focused = false
	}
	u.focus = f
	u.kbd = nil
	if f != nil {
		f.focused = true
		if f.Kind == KindNumber {
			u.kbd = u.keypad
		} else {
			u.qwerty.SetEmail(f.Kind == KindEmail)
			u.kbd = u.qwerty
		}
	}
	u.needLayout = true
}

// Focus returns the field with the keyboard, or nil.
func (u *UI) Focus() *Field { return u.focus }

// SetFocus gives the keyboard to f (nil closes it).
func (u *UI) SetFocus(f *Field) { u.setFocus(f) }

func (u *UI) roots() []Widget {
	rs := []Widget{}
	if u.page.Header != nil {
		rs = append(rs, u.page.Header)
	}
	rs = append(rs, u.body)
	if u.kbd != nil {
		rs = append(rs, u.kbd)
	} else {
		rs = append(rs, u.footer)
	}
	return rs
}

func (u *UI) layout() {
	c := &u.ctx
	size := u.Size()
	y := 0
	if h := u.page.Header; h != nil {
		hh := h.Measure(c, size.X)
		h.Layout(c, image.Rect(0, 0, size.X, hh))
		y = hh
	}
	bottom := size.Y
	if u.kbd != nil {
		kh := u.kbd.Measure(c, size.X)
		u.kbd.Layout(c, image.Rect(0, size.Y-kh, size.X, size.Y))
		bottom -= kh
	} else if len(u.page.Footer) > 0 {
		pad := c.Dp(12)
		fh := u.footer.Measure(c, size.X-2*pad) + 2*pad
		u.footer.Layout(c, image.Rect(pad, size.Y-fh+pad, size.X-pad, size.Y-pad))
		bottom -= fh
	}
	u.body.Layout(c, image.Rect(0, y, size.X, bottom))
	if u.focus != nil {
		u.body.Reveal(c, u.focus.Bounds())
	}
	if d := u.dialog; d != nil {
		w := min(size.X-2*c.Dp(24), c.Dp(600))
		h := min(d.Measure(c, w), size.Y-2*c.Dp(12))
		x0, y0 := (size.X-w)/2, (size.Y-h)/2
		d.Layout(c, image.Rect(x0, y0, x0+w, y0+h))
	}
	u.needLayout = false
	u.dirty = append(u.dirty[:0], u.frame.Rect)
}

// Invalidate asks for r (frame pixels) to be repainted on the next Render.
func (u *UI) Invalidate(r image.Rectangle) { u.invalidate(r) }

func (u *UI) invalidate(r image.Rectangle) {
	r = r.Intersect(u.frame.Rect)
	if !r.Empty() {
		u.dirty = append(u.dirty, r)
	}
}

// Render brings the frame up to date and returns it with the rectangles
// that changed (none when nothing did). The frame is the UI's own; it
// stays valid until the next Render.
func (u *UI) Render() (*image.RGBA, []image.Rectangle) {
	if u.needLayout {
		u.layout()
	}
	rects := mergeRects(u.dirty, u.frame.Rect)
	u.dirty = u.dirty[:0]
	for _, r := range rects {
		u.paint(u.frame.SubImage(r).(*image.RGBA), nil)
	}
	return u.frame, rects
}

// Audit repaints the whole frame and returns every piece of text drawn, for
// tests that check nothing is clipped or overlaps.
func (u *UI) Audit() []TextRun {
	if u.needLayout {
		u.layout()
	}
	var runs []TextRun
	u.paint(u.frame, &runs)
	u.dirty = u.dirty[:0]
	return runs
}

func (u *UI) paint(dst *image.RGBA, audit *[]TextRun) {
	c := &u.ctx
	c.audit, c.layer = audit, 0
	c.P.Fill(dst, dst.Rect, u.theme.Background)
	for _, w := range u.roots() {
		if w.Bounds().Overlaps(dst.Rect) {
			w.Draw(c, dst)
		}
	}
	if d := u.dialog; d != nil {
		c.layer = 1
		c.P.Fill(dst, dst.Rect, u.theme.Scrim)
		d.Draw(c, dst)
	}
	u.drawNav(dst)
	c.audit = nil
}

// mergeRects unions overlapping rectangles and falls back to the whole
// frame when the pieces cover most of it anyway.
func mergeRects(rs []image.Rectangle, full image.Rectangle) []image.Rectangle {
	var out []image.Rectangle
	area := 0
	for _, r := range rs {
		merged := true
		for merged {
			merged = false
			for i, o := range out {
				if o.Overlaps(r) {
					r = r.Union(o)
					out = append(out[:i], out[i+1:]...)
					merged = true
					break
				}
			}
		}
		out = append(out, r)
	}
	for _, r := range out {
		area += r.Dx() * r.Dy()
		if r == full {
			return []image.Rectangle{full}
		}
	}
	if len(out) > 8 || area*2 > full.Dx()*full.Dy() {
		return []image.Rectangle{full}
	}
	return out
}

// Find returns the widget with id on the page, keyboard or dialog, or nil.
func (u *UI) Find(id string) Widget {
	if u.needLayout {
		u.layout()
	}
	var found Widget
	walk := func(w Widget) {}
	walk = func(w Widget) {
		if found != nil || w == nil {
			return
		}
		if w.ID() == id {
			found = w
			return
		}
		for _, ch := range w.Children() {
			walk(ch)
		}
	}
	if u.dialog != nil {
		walk(u.dialog)
	}
	for _, w := range u.roots() {
		walk(w)
	}
	return found
}

// Reveal scrolls every scrolling container that holds w (a list inside
// the body, then the body) so w is in view, as a person would before
// tapping it.
func (u *UI) Reveal(w Widget) {
	if u.needLayout {
		u.layout()
	}
	type revealer interface {
		Reveal(c *Ctx, r image.Rectangle)
	}
	var path []Widget
	var find func(n Widget) bool
	find = func(n Widget) bool {
		if n == w {
			return true
		}
		for _, ch := range n.Children() {
			if find(ch) {
				path = append(path, n)
				return true
			}
		}
		return false
	}
	for _, r := range u.roots() {
		if find(r) {
			break
		}
	}
	for _, n := range path { // innermost first
		if rv, ok := n.(revealer); ok {
			rv.Reveal(&u.ctx, w.Bounds())
		}
	}
}

// Wipe zeroes every field's contents on the page (the session-wipe rule)
// and closes the keyboard.
func (u *UI) Wipe() {
	var walk func(w Widget)
	walk = func(w Widget) {
		if wp, ok := w.(Wiper); ok {
			wp.Wipe()
		}
		for _, ch := range w.Children() {
			walk(ch)
		}
	}
	for _, w := range u.roots() {
		walk(w)
	}
	if u.dialog != nil {
		walk(u.dialog)
	}
	u.setFocus(nil)
	u.needLayout = true
}
