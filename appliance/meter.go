package appliance

import (
	"image"
	"image/color"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/rules"
)

// strengthMeter shows the strength of the password being typed as four
// bars and a word, graded by rules.PasswordStrength: the same rules the
// upstream applies, read from the machine's copy of the field, so the
// meter and the rules cannot disagree.
type strengthMeter struct {
	display.Base
	m     *Machine
	f     FieldID
	px    int
	drawn int
}

func newStrengthMeter(m *Machine, f FieldID) *strengthMeter {
	return &strengthMeter{Base: display.Base{Name: "strength"}, m: m, f: f, drawn: -1}
}

// grade is 0 for nothing typed, else 1 + the rules' strength.
func (s *strengthMeter) grade() int {
	if s.m.sess == nil || len(s.m.sess.p.fields[s.f]) == 0 {
		return 0
	}
	return 1 + int(rules.PasswordStrength(s.m.sess.p.value(s.f)))
}

// Measure is one line of small text beside the bars.
func (s *strengthMeter) Measure(c *display.Ctx, w int) int {
	s.px = c.FontPx(display.SizeSmall)
	return c.LineHeight(s.px) + c.Dp(8)
}

// Layout records r.
func (s *strengthMeter) Layout(c *display.Ctx, r image.Rectangle) {
	s.R = r
	s.px = c.FontPx(display.SizeSmall)
}

// Animate repaints when the grade changed.
func (s *strengthMeter) Animate(c *display.Ctx) {
	if s.grade() != s.drawn {
		c.Invalidate(s.R)
	}
}

// Draw draws the bars filled up to the grade, and its name.
func (s *strengthMeter) Draw(c *display.Ctx, dst *image.RGBA) {
	t := c.Theme()
	g := s.grade()
	s.drawn = g
	cols := []color.RGBA{t.Border, t.Error, t.Primary, t.Primary, t.Good}
	key := "password.none"
	if g > 0 {
		key = rules.Strength(g - 1).Key()
	}
	word := c.T(key)
	lw := c.Font().Width(word, s.px)
	barsW := min(s.R.Dx()-lw-c.Dp(16), c.Dp(240))
	gap := c.Dp(6)
	bw := (barsW - 3*gap) / 4
	bh := c.Dp(8)
	y := s.R.Min.Y + (s.R.Dy()-bh)/2
	for i := range 4 {
		col := t.Border
		if g > i {
			col = cols[g]
		}
		x := s.R.Min.X + i*(bw+gap)
		c.P.RoundRect(dst, image.Rect(x, y, x+bw, y+bh), bh/2, col)
	}
	tx := s.R.Min.X + 4*(bw+gap) + c.Dp(10)
	c.Text(dst, s.Name, word, s.px, image.Rect(tx, s.R.Min.Y, s.R.Max.X, s.R.Max.Y), 0, t.Text)
}
