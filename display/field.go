package display

import (
	"image"
	"strings"
	"unicode/utf8"
)

// FieldKind picks the on-screen keyboard a field opens.
type FieldKind int

// Field kinds.
const (
	KindText   FieldKind = iota // QWERTY
	KindEmail                   // QWERTY with the e-mail row
	KindNumber                  // numeric keypad
)

// Field is a labelled text field with a caret, an optional hint, and an
// error line under it. Its value is bytes the field owns: Wipe zeroes
// them, and a masked field draws one dot per character, so its plain text
// never reaches a frame.
type Field struct {
	Base
	Label  Msg
	Hint   Msg // shown while empty
	Error  Msg // shown under the box in the error colour; zero for none
	Kind   FieldKind
	Masked bool
	MaxLen int // in characters; 0 is unlimited
	// Allow filters typed characters (nil accepts all).
	Allow func(r rune) bool
	// OnChange runs after each edit; OnEnter on the keyboard's enter key
	// (nil closes the keyboard).
	OnChange func()
	OnEnter  func()

	value   []byte
	focused bool
	label   []string
	errs    []string
	px, lpx int
}

// NewField returns an empty field.
func NewField(id string, label Msg, kind FieldKind) *Field {
	return &Field{Base: Base{Name: id}, Label: label, Kind: kind}
}

// Value returns a copy of the contents; the caller owns it and should zero
// it when done.
func (f *Field) Value() []byte { return append([]byte(nil), f.value...) }

// Len returns the number of characters.
func (f *Field) Len() int { return utf8.RuneCount(f.value) }

// SetValue replaces the contents with a copy of b (the old bytes are
// zeroed).
func (f *Field) SetValue(c *Ctx, b []byte) {
	f.Wipe()
	f.value = append(make([]byte, 0, len(b)+16), b...)
	f.changed(c)
}

// Wipe zeroes the contents and empties the field.
func (f *Field) Wipe() {
	clear(f.value[:cap(f.value)])
	f.value = f.value[:0]
}

// SetError sets (or with a zero Msg clears) the error line.
func (f *Field) SetError(c *Ctx, m Msg) {
	f.Error = m
	c.Relayout()
}

// Focused reports whether the field has the keyboard.
func (f *Field) Focused() bool { return f.focused }

func (f *Field) changed(c *Ctx) {
	if c == nil {
		return
	}
	c.Invalidate(f.box(c))
	if f.OnChange != nil {
		f.OnChange()
	}
}

// Measure wraps label and error line around one box.
func (f *Field) Measure(c *Ctx, w int) int {
	f.px, f.lpx = c.FontPx(SizeBody), c.FontPx(SizeSmall)
	f.label = c.Wrap(c.S(f.Label), f.lpx, w)
	f.errs = nil
	if !f.Error.IsZero() {
		f.errs = c.Wrap(c.S(f.Error), f.lpx, w)
	}
	lh := c.LineHeight(f.lpx)
	return (len(f.label)+len(f.errs))*lh + f.boxH(c) + c.Dp(4)
}

func (f *Field) boxH(c *Ctx) int { return max(c.Target(), c.LineHeight(f.px)+c.Dp(16)) }

// Layout records r and re-wraps.
func (f *Field) Layout(c *Ctx, r image.Rectangle) {
	f.R = r
	f.Measure(c, r.Dx())
}

func (f *Field) box(c *Ctx) image.Rectangle {
	y := f.R.Min.Y + len(f.label)*c.LineHeight(f.lpx) + c.Dp(4)
	return image.Rect(f.R.Min.X, y, f.R.Max.X, y+f.boxH(c))
}

// Draw draws label, box, contents or hint, caret and error line.
func (f *Field) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	lh := c.LineHeight(f.lpx)
	c.Para(dst, f.Name+".label", f.label, f.lpx, image.Rect(f.R.Min.X, f.R.Min.Y, f.R.Max.X, f.R.Min.Y+len(f.label)*lh), 0, t.Text)
	b := f.box(c)
	rad := c.Dp(8)
	c.P.RoundRect(dst, b, rad, t.Surface)
	switch {
	case f.focused:
		c.P.Outline(dst, b, rad, max(3, c.Dp(3)), t.Primary)
	case !f.Error.IsZero():
		c.P.Outline(dst, b, rad, max(2, c.Dp(2)), t.Error)
	default:
		c.P.Outline(dst, b, rad, max(1, c.Dp(1.5)), t.Border)
	}
	in := b.Inset(c.Dp(14))
	in.Min.Y, in.Max.Y = b.Min.Y, b.Max.Y
	x := f.drawValue(c, dst, in)
	if f.focused {
		m := c.Font().Metrics(f.px)
		cy := b.Min.Y + (b.Dy()-m.Height)/2
		c.P.Fill(dst, image.Rect(x+c.Dp(1), cy, x+c.Dp(1)+max(2, c.Dp(2.5)), cy+m.Height), t.Primary)
	}
	if f.errs != nil {
		y := b.Max.Y + c.Dp(4)
		c.Para(dst, f.Name+".error", f.errs, f.lpx, image.Rect(f.R.Min.X, y, f.R.Max.X, y+len(f.errs)*lh), 0, t.Error)
	}
}

// drawValue draws the contents (dots when masked, the tail when too long),
// or the hint, and returns the x of the caret.
func (f *Field) drawValue(c *Ctx, dst *image.RGBA, in image.Rectangle) int {
	t := c.Theme()
	if len(f.value) == 0 {
		if !f.Hint.IsZero() && !f.focused {
			c.Text(dst, f.Name+".hint", c.S(f.Hint), f.px, in, 0, t.Muted)
		}
		return in.Min.X
	}
	if f.Masked {
		// One drawn dot per character: the value never becomes text.
		d := max(4, f.px/2)
		step := d * 7 / 4
		n := min(f.Len(), (in.Dx()-c.Dp(6))/step)
		y := in.Min.Y + (in.Dy()-d)/2
		for i := range n {
			x := in.Min.X + i*step
			c.P.RoundRect(dst, image.Rect(x, y, x+d, y+d), d/2, t.Text)
		}
		if c.audit != nil {
			*c.audit = append(*c.audit, TextRun{Widget: f.Name + ".value", Text: strings.Repeat("•", n), FontPx: f.px, Layer: c.layer,
				Ink: image.Rect(in.Min.X, y, in.Min.X+n*step, y+d), Box: in, Clip: dst.Rect})
		}
		return in.Min.X + n*step
	}
	v := f.value[c.Font().TailStart(f.value, f.px, in.Dx()-c.Dp(6)):]
	m := c.Font().Metrics(f.px)
	top := in.Min.Y + (in.Dy()-m.Height)/2
	base := top + (m.Height-m.Ascent-m.Descent)/2 + m.Ascent
	if c.audit != nil {
		w := c.Font().WidthBytes(v, f.px)
		*c.audit = append(*c.audit, TextRun{Widget: f.Name + ".value", Text: string(v), FontPx: f.px, Layer: c.layer,
			Ink: image.Rect(in.Min.X, base-m.Ascent, in.Min.X+w, base+m.Descent), Box: in, Clip: dst.Rect})
	}
	return c.Font().DrawBytes(dst, in.Min.X, base, v, f.px, t.Text)
}

// Handle focuses the field on a tap and edits it on key presses.
func (f *Field) Handle(c *Ctx, ev Event) bool {
	switch ev.Kind {
	case PointerDown, PointerMove, PointerCancel:
		return true
	case PointerUp:
		if ev.Pos().In(f.R) {
			c.Focus(f)
		}
		return true
	case KeyPress:
		switch {
		case ev.Key == KeyBackspace:
			f.backspace()
		case ev.Text != "":
			for _, r := range ev.Text {
				f.insert(r)
			}
		case ev.Rune != 0:
			f.insert(ev.Rune)
		default:
			return false
		}
		f.changed(c)
		return true
	}
	return false
}

func (f *Field) insert(r rune) {
	if (f.MaxLen > 0 && f.Len() >= f.MaxLen) || (f.Allow != nil && !f.Allow(r)) {
		return
	}
	n := utf8.RuneLen(r)
	if n < 0 {
		return
	}
	if len(f.value)+n > cap(f.value) {
		// Grow by hand so the old array is zeroed, not left to the GC.
		nv := make([]byte, len(f.value), 2*cap(f.value)+16)
		copy(nv, f.value)
		clear(f.value[:cap(f.value)])
		f.value = nv
	}
	f.value = utf8.AppendRune(f.value, r)
}

func (f *Field) backspace() {
	if len(f.value) == 0 {
		return
	}
	_, n := utf8.DecodeLastRune(f.value)
	clear(f.value[len(f.value)-n:])
	f.value = f.value[:len(f.value)-n]
}
