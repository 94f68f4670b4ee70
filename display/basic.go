package display

import (
	"image"
	"image/color"
)

// Label is wrapped text.
type Label struct {
	Base
	Text Msg
	// Size in dp (SizeBody if zero).
	Size float64
	// Muted draws in the secondary text colour.
	Muted bool
	Align int // 0 left, 1 centre
	// Speech, when set, is what the label says instead of its text (a
	// composed line such as "label: value" said as its parts).
	Speech []Msg
	lines  []string
	px     int
}

// NewLabel returns a body-text label.
func NewLabel(id string, m Msg) *Label { return &Label{Base: Base{Name: id}, Text: m} }

func (l *Label) size() float64 {
	if l.Size == 0 {
		return SizeBody
	}
	return l.Size
}

// Measure wraps the text at w.
func (l *Label) Measure(c *Ctx, w int) int {
	l.px = c.FontPx(l.size())
	l.lines = c.Wrap(c.S(l.Text), l.px, w)
	return len(l.lines) * c.LineHeight(l.px)
}

// Layout wraps the text for r.
func (l *Label) Layout(c *Ctx, r image.Rectangle) {
	l.R = r
	l.Measure(c, r.Dx())
}

// Draw draws the lines.
func (l *Label) Draw(c *Ctx, dst *image.RGBA) {
	col := c.Theme().Text
	if l.Muted {
		col = c.Theme().Muted
	}
	c.Para(dst, l.Name, l.lines, l.px, l.R, l.Align, col)
}

// SetText changes the text and asks for a new layout.
func (l *Label) SetText(c *Ctx, m Msg) {
	l.Text = m
	c.Relayout()
}

// Header is the band at the top of a page: a title and "step n of N".
type Header struct {
	Base
	Title       Msg
	Step, Steps int // no step counter when Steps is 0
	title, step []string
	px, spx     int
}

// NewHeader returns a header.
func NewHeader(id string, title Msg, step, steps int) *Header {
	return &Header{Base: Base{Name: id}, Title: title, Step: step, Steps: steps}
}

// Measure lays the title out beside the step counter, wrapping both.
func (h *Header) Measure(c *Ctx, w int) int {
	pad := c.Dp(20)
	h.px, h.spx = c.FontPx(SizeTitle), c.FontPx(SizeBody)
	inner := w - 2*pad
	sw := 0
	h.step = nil
	if h.Steps > 0 {
		s := c.T("display.step", "n", h.Step, "total", h.Steps)
		sw = min(c.Font().Width(s, h.spx), inner/2)
		h.step = c.Wrap(s, h.spx, sw)
		sw += pad
	}
	h.title = c.Wrap(c.S(h.Title), h.px, inner-sw)
	th := max(len(h.title)*c.LineHeight(h.px), len(h.step)*c.LineHeight(h.spx))
	return max(c.Dp(64), th+2*c.Dp(12))
}

// Layout records r and re-wraps.
func (h *Header) Layout(c *Ctx, r image.Rectangle) {
	h.R = r
	h.Measure(c, r.Dx())
}

// Draw draws the band, title and counter.
func (h *Header) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	c.P.Fill(dst, h.R, t.Header)
	if t.Header == t.Background {
		c.P.Fill(dst, image.Rect(h.R.Min.X, h.R.Max.Y-c.Dp(2), h.R.Max.X, h.R.Max.Y), t.Border)
	}
	pad := c.Dp(20)
	in := h.R.Inset(pad)
	in.Min.Y, in.Max.Y = h.R.Min.Y+c.Dp(12), h.R.Max.Y-c.Dp(12)
	th := len(h.title) * c.LineHeight(h.px)
	c.Para(dst, h.Name, h.title, h.px, image.Rect(in.Min.X, in.Min.Y+(in.Dy()-th)/2, in.Max.X, in.Min.Y+(in.Dy()+th)/2), 0, t.OnHeader)
	if h.step != nil {
		sh := len(h.step) * c.LineHeight(h.spx)
		sw := 0
		for _, s := range h.step {
			sw = max(sw, c.Font().Width(s, h.spx))
		}
		r := image.Rect(in.Max.X-sw, in.Min.Y+(in.Dy()-sh)/2, in.Max.X, in.Min.Y+(in.Dy()+sh)/2)
		c.Para(dst, h.Name+".step", h.step, h.spx, r, 2, t.OnHeader)
	}
}

// ButtonStyle picks a button's colours.
type ButtonStyle int

// Button styles.
const (
	Primary ButtonStyle = iota
	Secondary
)

// Button is a touch target with a label; OnTap runs when a press is
// released inside it.
type Button struct {
	Base
	Label    Msg
	Style    ButtonStyle
	Disabled bool
	OnTap    func()
	pressed  bool
	lines    []string
	px       int
}

// NewButton returns a button.
func NewButton(id string, label Msg, style ButtonStyle, onTap func()) *Button {
	return &Button{Base: Base{Name: id}, Label: label, Style: style, OnTap: onTap}
}

// Measure wraps the label and keeps the height at least one touch target.
func (b *Button) Measure(c *Ctx, w int) int {
	b.px = c.FontPx(SizeBody)
	b.lines = c.Wrap(c.S(b.Label), b.px, w-2*c.Dp(16))
	return max(c.Target(), len(b.lines)*c.LineHeight(b.px)+2*c.Dp(10))
}

// Layout records r and re-wraps.
func (b *Button) Layout(c *Ctx, r image.Rectangle) {
	b.R = r
	b.px = c.FontPx(SizeBody)
	b.lines = c.Wrap(c.S(b.Label), b.px, r.Dx()-2*c.Dp(16))
}

func (b *Button) colors(t *Theme) (bg, fg color.RGBA) {
	bg, fg = t.Primary, t.OnPrimary
	if b.Style == Secondary {
		bg, fg = t.Secondary, t.OnSecond
	}
	if b.Disabled {
		bg, fg = t.Background, t.Muted
	}
	if b.pressed {
		bg = t.KeyPressed
		fg = t.OnKey
	}
	return bg, fg
}

// Draw draws the button.
func (b *Button) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	bg, fg := b.colors(t)
	rad := c.Dp(10)
	c.P.RoundRect(dst, b.R, rad, bg)
	if b.Style == Secondary || b.Disabled || t.Name == "high-contrast" {
		c.P.Outline(dst, b.R, rad, max(2, c.Dp(2)), t.Border)
	}
	th := len(b.lines) * c.LineHeight(b.px)
	in := image.Rect(b.R.Min.X+c.Dp(16), b.R.Min.Y+(b.R.Dy()-th)/2, b.R.Max.X-c.Dp(16), b.R.Min.Y+(b.R.Dy()+th)/2)
	c.Para(dst, b.Name, b.lines, b.px, in, 1, fg)
}

// Handle presses on down and taps on an up inside.
func (b *Button) Handle(c *Ctx, ev Event) bool {
	if b.Disabled {
		return false
	}
	return press(c, &b.pressed, b.R, ev, b.OnTap)
}

// press implements the press-release-inside gesture shared by buttons,
// checkboxes and rows.
func press(c *Ctx, pressed *bool, r image.Rectangle, ev Event, tap func()) bool {
	switch ev.Kind {
	case PointerDown:
		*pressed = true
		c.Invalidate(r)
	case PointerMove:
		if in := ev.Pos().In(r); in != *pressed {
			*pressed = in
			c.Invalidate(r)
		}
	case PointerUp:
		was := *pressed
		*pressed = false
		c.Invalidate(r)
		if was && ev.Pos().In(r) && tap != nil {
			tap()
		}
	case PointerCancel:
		*pressed = false
		c.Invalidate(r)
	default:
		return false
	}
	return true
}

// Checkbox is a box and a wrapped label; the whole row is the target.
type Checkbox struct {
	Base
	Label    Msg
	Checked  bool
	OnChange func(checked bool)
	pressed  bool
	lines    []string
	px       int
}

// NewCheckbox returns an unchecked checkbox.
func NewCheckbox(id string, label Msg) *Checkbox {
	return &Checkbox{Base: Base{Name: id}, Label: label}
}

// Measure wraps the label beside the box.
func (cb *Checkbox) Measure(c *Ctx, w int) int {
	cb.px = c.FontPx(SizeBody)
	box := c.Dp(36)
	cb.lines = c.Wrap(c.S(cb.Label), cb.px, w-box-c.Dp(16))
	return max(c.Target(), len(cb.lines)*c.LineHeight(cb.px)+c.Dp(12))
}

// Layout records r and re-wraps.
func (cb *Checkbox) Layout(c *Ctx, r image.Rectangle) {
	cb.R = r
	cb.Measure(c, r.Dx())
}

// Draw draws the box (with a check mark when checked) and the label.
func (cb *Checkbox) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	s := c.Dp(36)
	box := image.Rect(cb.R.Min.X, cb.R.Min.Y+(cb.R.Dy()-s)/2, cb.R.Min.X+s, cb.R.Min.Y+(cb.R.Dy()+s)/2)
	if cb.pressed {
		c.P.Fill(dst, cb.R, t.KeyPressed)
	}
	if cb.Checked {
		c.P.RoundRect(dst, box, c.Dp(6), t.Primary)
		c.P.DrawIcon(dst, box.Inset(c.Dp(4)), IconCheck, t.OnPrimary)
	} else {
		c.P.RoundRect(dst, box, c.Dp(6), t.Surface)
		c.P.Outline(dst, box, c.Dp(6), max(2, c.Dp(2)), t.Border)
	}
	th := len(cb.lines) * c.LineHeight(cb.px)
	x := box.Max.X + c.Dp(16)
	c.Para(dst, cb.Name, cb.lines, cb.px, image.Rect(x, cb.R.Min.Y+(cb.R.Dy()-th)/2, cb.R.Max.X, cb.R.Min.Y+(cb.R.Dy()+th)/2), 0, t.Text)
}

// Handle toggles on a tap.
func (cb *Checkbox) Handle(c *Ctx, ev Event) bool {
	return press(c, &cb.pressed, cb.R, ev, func() {
		cb.Checked = !cb.Checked
		if cb.OnChange != nil {
			cb.OnChange(cb.Checked)
		}
	})
}
