package display

import (
	"image"
	"image/color"
	"math"
	"time"

	"github.com/nhikiosk/nhikiosk/rules"
)

// Strength grades a registration password the way the NHI site does.
type Strength int

// Strengths, weakest first.
const (
	StrengthNone Strength = iota // empty
	StrengthWeak
	StrengthMedium
	StrengthMediumStrong
	StrengthStrong
)

// PasswordStrength grades pw with rules.PasswordStrength, the grading the
// wizard and the upstream use, so the meter can never disagree with them.
func PasswordStrength(pw []byte) Strength {
	s, _ := PasswordGrade(pw)
	return s
}

// PasswordGrade is PasswordStrength with the reason a password is weak
// whatever its mix of characters: rules.ReasonCommon for one on the
// blocklist of common passwords (which the rules refuse), "" otherwise.
func PasswordGrade(pw []byte) (Strength, string) {
	if len(pw) == 0 {
		return StrengthNone, rules.ReasonNone
	}
	g, why := rules.PasswordGrade(pw)
	return StrengthWeak + Strength(g), why
}

// StrengthMeter shows the strength of a password as four bars and a word.
// It reads the password when drawn, through Value; it keeps no copy.
type StrengthMeter struct {
	Base
	// Value returns the password's bytes as they are now (nil: none).
	Value func() []byte
	// Keys are the catalog keys of the words for none, weak, medium,
	// medium-strong and strong; nil means the display's own.
	Keys []string
	// ReasonKeys are the catalog keys of the reasons a password is weak
	// whatever its mix (rules.ReasonCommon), shown after the word; nil
	// means the display's own.
	ReasonKeys map[string]string
	px         int
	drawn      Strength
	drawnWhy   string
}

var strengthKeys = []string{"display.strength.none", "display.strength.weak", "display.strength.medium", "display.strength.medium_strong", "display.strength.strong"}

var reasonKeys = map[string]string{rules.ReasonCommon: "display.strength.common"}

// NewStrengthMeter returns a meter for the field f.
func NewStrengthMeter(id string, f *Field) *StrengthMeter {
	return &StrengthMeter{Base: Base{Name: id}, Value: func() []byte { return f.value }}
}

// Measure is one line of small text beside the bars.
func (m *StrengthMeter) Measure(c *Ctx, w int) int {
	m.px = c.FontPx(SizeSmall)
	return c.LineHeight(m.px) + c.Dp(8)
}

// Layout records r.
func (m *StrengthMeter) Layout(c *Ctx, r image.Rectangle) {
	m.R = r
	m.px = c.FontPx(SizeSmall)
}

// Animate repaints the meter when the field changed (cheap: compares the
// grade drawn with the current one).
func (m *StrengthMeter) Animate(c *Ctx) {
	if s, why := PasswordGrade(m.Value()); s != m.drawn || why != m.drawnWhy {
		c.Invalidate(m.R)
	}
}

// Draw draws bars filled up to the grade, and its name, with the reason
// when a common password grades weak (issue 13: NIST SP 800-63B asks to
// say why a password is refused).
func (m *StrengthMeter) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	s, why := PasswordGrade(m.Value())
	m.drawn, m.drawnWhy = s, why
	cols := []color.RGBA{t.Border, t.Error, t.Primary, t.Primary, t.Good}
	keys := m.Keys
	if len(keys) != len(strengthKeys) {
		keys = strengthKeys
	}
	label := c.T(keys[s])
	if why != "" {
		rk := m.ReasonKeys
		if rk == nil {
			rk = reasonKeys
		}
		label += " · " + c.T(rk[why])
	}
	lw := c.Font().Width(label, m.px)
	barsW := max(min(m.R.Dx()-lw-c.Dp(16), c.Dp(240)), c.Dp(48))
	gap := c.Dp(6)
	bw := (barsW - 3*gap) / 4
	bh := c.Dp(8)
	y := m.R.Min.Y + (m.R.Dy()-bh)/2
	for i := range 4 {
		col := t.Border
		if int(s) > i {
			col = cols[s]
		}
		x := m.R.Min.X + i*(bw+gap)
		c.P.RoundRect(dst, image.Rect(x, y, x+bw, y+bh), bh/2, col)
	}
	tx := m.R.Min.X + 4*(bw+gap) + c.Dp(10)
	c.Text(dst, m.Name, label, m.px, image.Rect(tx, m.R.Min.Y, m.R.Max.X, m.R.Max.Y), 0, t.Text)
}

// Spinner is an arc turning once a second while something is busy.
type Spinner struct {
	Base
	Size float64 // dp, 48 if zero
}

// NewSpinner returns a spinner.
func NewSpinner(id string) *Spinner { return &Spinner{Base: Base{Name: id}} }

func (s *Spinner) side(c *Ctx) int {
	if s.Size == 0 {
		return c.Dp(48)
	}
	return c.Dp(s.Size)
}

// Measure returns the spinner's side.
func (s *Spinner) Measure(c *Ctx, w int) int { return s.side(c) }

// Animate repaints the spinner, 20 times a second while it is shown.
func (s *Spinner) Animate(c *Ctx) {
	c.Invalidate(s.R)
	c.WakeAt(c.Now().Add(SpinnerFrame))
}

// SpinnerFrame is how long a spinner's frame stays up.
const SpinnerFrame = 50 * time.Millisecond

// Draw draws a faint ring and a turning arc.
func (s *Spinner) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	d := s.side(c)
	box := image.Rect(0, 0, d, d).Add(image.Pt(s.R.Min.X+(s.R.Dx()-d)/2, s.R.Min.Y))
	w := max(3, d/9)
	c.P.Arc(dst, box, 0, 2*math.Pi, w, t.Secondary)
	ms := c.Now().UnixMilli() % 1000
	c.P.Arc(dst, box, float64(ms)/1000*2*math.Pi, math.Pi*0.6, w, t.Primary)
}

// Picture shows an image scaled (nearest neighbour) to fit its box,
// centred, never larger than its natural size times the UI scale.
type Picture struct {
	Base
	Img image.Image
	// Height in dp of the box.
	Height float64
	// Alt is read out nowhere but recorded in audits.
	Alt Msg
}

// NewPicture returns a picture of height dp.
func NewPicture(id string, img image.Image, height float64) *Picture {
	return &Picture{Base: Base{Name: id}, Img: img, Height: height}
}

// Measure returns the fixed height.
func (p *Picture) Measure(c *Ctx, w int) int { return c.Dp(p.Height) }

// Draw scales the image into its box.
func (p *Picture) Draw(c *Ctx, dst *image.RGBA) {
	drawScaled(dst, p.R, p.Img)
}

// drawScaled draws src into box keeping its aspect, nearest neighbour, so
// QR modules stay sharp.
func drawScaled(dst *image.RGBA, box image.Rectangle, src image.Image) {
	sb := src.Bounds()
	if sb.Empty() {
		return
	}
	k := min(float64(box.Dx())/float64(sb.Dx()), float64(box.Dy())/float64(sb.Dy()))
	w, h := int(float64(sb.Dx())*k), int(float64(sb.Dy())*k)
	r := image.Rect(0, 0, w, h).Add(box.Min).Add(image.Pt((box.Dx()-w)/2, (box.Dy()-h)/2))
	vis := r.Intersect(dst.Rect)
	for y := vis.Min.Y; y < vis.Max.Y; y++ {
		sy := sb.Min.Y + (y-r.Min.Y)*sb.Dy()/h
		for x := vis.Min.X; x < vis.Max.X; x++ {
			sx := sb.Min.X + (x-r.Min.X)*sb.Dx()/w
			cr, cg, cb, ca := src.At(sx, sy).RGBA()
			i := dst.PixOffset(x, y)
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2], dst.Pix[i+3] = uint8(cr>>8), uint8(cg>>8), uint8(cb>>8), uint8(ca>>8)
		}
	}
}
