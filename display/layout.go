package display

import "image"

// Msg is a text a widget shows: a catalog key with arguments, or a literal
// for data that is not translated (a place name, a typed value).
type Msg struct {
	Key  string
	Args []any
	Lit  string
}

// M returns a catalog message.
func M(key string, args ...any) Msg { return Msg{Key: key, Args: args} }

// Lit returns a literal, untranslated text.
func Lit(s string) Msg { return Msg{Lit: s} }

// IsZero reports whether m is empty.
func (m Msg) IsZero() bool { return m.Key == "" && m.Lit == "" }

// S returns m's text in the current language.
func (c *Ctx) S(m Msg) string {
	if m.Key == "" {
		return m.Lit
	}
	return c.T(m.Key, m.Args...)
}

// Font sizes in dp, before the theme's text scale.
const (
	SizeSmall = 16
	SizeBody  = 20
	SizeTitle = 26
)

// Column stacks its children top to bottom with a gap between them.
type Column struct {
	Base
	Items []Widget
	// Gap in dp between items (12 if zero).
	Gap float64
}

// NewColumn returns a column of items.
func NewColumn(id string, items ...Widget) *Column {
	return &Column{Base: Base{Name: id}, Items: items}
}

func (col *Column) gap(c *Ctx) int {
	if col.Gap == 0 {
		return c.Dp(12)
	}
	return c.Dp(col.Gap)
}

// Children returns the items.
func (col *Column) Children() []Widget { return col.Items }

// Measure returns the sum of the items' heights and gaps.
func (col *Column) Measure(c *Ctx, w int) int {
	h := 0
	for i, it := range col.Items {
		if i > 0 {
			h += col.gap(c)
		}
		h += it.Measure(c, w)
	}
	return h
}

// Layout stacks the items.
func (col *Column) Layout(c *Ctx, r image.Rectangle) {
	col.R = r
	y := r.Min.Y
	for _, it := range col.Items {
		h := it.Measure(c, r.Dx())
		it.Layout(c, image.Rect(r.Min.X, y, r.Max.X, y+h))
		y += h + col.gap(c)
	}
}

// Draw draws the items that overlap dst.
func (col *Column) Draw(c *Ctx, dst *image.RGBA) {
	for _, it := range col.Items {
		if it.Bounds().Overlaps(dst.Rect) {
			it.Draw(c, dst)
		}
	}
}

// Row puts its children side by side in equal widths, as tall as the
// tallest.
type Row struct {
	Base
	Items []Widget
}

// NewRow returns a row of items.
func NewRow(id string, items ...Widget) *Row { return &Row{Base: Base{Name: id}, Items: items} }

// Children returns the items.
func (rw *Row) Children() []Widget { return rw.Items }

func (rw *Row) cell(c *Ctx, w int) int {
	n := len(rw.Items)
	if n == 0 {
		return 0
	}
	return (w - (n-1)*c.Dp(12)) / n
}

// Measure returns the tallest item's height at its share of w.
func (rw *Row) Measure(c *Ctx, w int) int {
	h := 0
	for _, it := range rw.Items {
		h = max(h, it.Measure(c, rw.cell(c, w)))
	}
	return h
}

// Layout places the items left to right.
func (rw *Row) Layout(c *Ctx, r image.Rectangle) {
	rw.R = r
	cw := rw.cell(c, r.Dx())
	for i, it := range rw.Items {
		x := r.Min.X + i*(cw+c.Dp(12))
		it.Layout(c, image.Rect(x, r.Min.Y, x+cw, r.Max.Y))
	}
}

// Draw draws the items.
func (rw *Row) Draw(c *Ctx, dst *image.RGBA) {
	for _, it := range rw.Items {
		if it.Bounds().Overlaps(dst.Rect) {
			it.Draw(c, dst)
		}
	}
}

// ScrollView shows a child taller than itself and scrolls it by drag.
type ScrollView struct {
	Base
	Child  Widget
	offset int
	h      int // content height
}

// NewScrollView returns a scroll view around child.
func NewScrollView(id string, child Widget) *ScrollView {
	return &ScrollView{Base: Base{Name: id}, Child: child}
}

// Children returns the child.
func (sv *ScrollView) Children() []Widget { return []Widget{sv.Child} }

// Measure returns the child's height plus padding.
func (sv *ScrollView) Measure(c *Ctx, w int) int {
	return sv.Child.Measure(c, w-2*c.Dp(16)) + 2*c.Dp(12)
}

// Layout makes r the viewport and places the child at the scroll offset.
func (sv *ScrollView) Layout(c *Ctx, r image.Rectangle) {
	sv.R = r
	padX, padY := c.Dp(16), c.Dp(12)
	sv.h = sv.Child.Measure(c, r.Dx()-2*padX) + 2*padY
	sv.offset = max(0, min(sv.offset, sv.h-r.Dy()))
	y := r.Min.Y + padY - sv.offset
	sv.Child.Layout(c, image.Rect(r.Min.X+padX, y, r.Max.X-padX, y+sv.h-2*padY))
}

// Offset returns how far the content is scrolled, in pixels.
func (sv *ScrollView) Offset() int { return sv.offset }

// ScrollBy scrolls the content by dy pixels.
func (sv *ScrollView) ScrollBy(c *Ctx, dy int) {
	o := max(0, min(sv.offset+dy, sv.h-sv.R.Dy()))
	if o == sv.offset {
		return
	}
	sv.offset = o
	sv.Layout(c, sv.R)
	c.Invalidate(sv.R)
}

// Reveal scrolls so that r (frame coordinates) is inside the viewport, as
// far as it fits.
func (sv *ScrollView) Reveal(c *Ctx, r image.Rectangle) {
	pad := c.Dp(8)
	switch {
	case r.Dy()+2*pad > sv.R.Dy() || r.Min.Y-pad < sv.R.Min.Y:
		sv.ScrollBy(c, r.Min.Y-pad-sv.R.Min.Y)
	case r.Max.Y+pad > sv.R.Max.Y:
		sv.ScrollBy(c, r.Max.Y+pad-sv.R.Max.Y)
	}
}

// Draw draws the visible part of the child and a scroll indicator.
func (sv *ScrollView) Draw(c *Ctx, dst *image.RGBA) {
	vis := sv.R.Intersect(dst.Rect)
	if vis.Empty() {
		return
	}
	sub := dst.SubImage(vis).(*image.RGBA)
	sv.Child.Draw(c, sub)
	if sv.h > sv.R.Dy() {
		drawScrollbar(c, sub, sv.R, sv.offset, sv.h)
	}
}

// drawScrollbar draws a thin thumb at the right edge of view.
func drawScrollbar(c *Ctx, dst *image.RGBA, view image.Rectangle, offset, total int) {
	w := c.Dp(5)
	th := max(view.Dy()*view.Dy()/total, c.Dp(32))
	ty := view.Min.Y + (view.Dy()-th)*offset/max(1, total-view.Dy())
	r := image.Rect(view.Max.X-w-c.Dp(3), ty, view.Max.X-c.Dp(3), ty+th)
	c.P.RoundRect(dst, r, w/2, c.Theme().Border)
}
