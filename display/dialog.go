package display

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"time"

	"rsc.io/qr"
)

// Dialog is a modal box over the page: a title, a message, an optional
// countdown ("the session ends in 18 s", for the idle warning) and a row of
// buttons. While it is shown nothing else takes input.
type Dialog struct {
	Base
	Title Msg
	Body  Msg
	// Deadline starts a countdown shown with CountdownKey (its "{s}" is the
	// seconds left); OnExpire runs once when it passes.
	Deadline     time.Time
	CountdownKey string
	OnExpire     func()
	Buttons      *Row

	ui      *UI
	shown   int // seconds left drawn last
	expired bool
	title   []string
	body    []string
	count   string
}

// NewDialog returns a dialog with buttons.
func NewDialog(id string, title, body Msg, buttons ...Widget) *Dialog {
	return &Dialog{Base: Base{Name: id}, Title: title, Body: body, Buttons: NewRow(id+".buttons", buttons...)}
}

// Children returns the buttons row.
func (d *Dialog) Children() []Widget { return []Widget{d.Buttons} }

// Left returns the whole seconds left on the countdown.
func (d *Dialog) Left(now time.Time) int {
	if d.Deadline.IsZero() {
		return 0
	}
	return max(0, int(math.Ceil(d.Deadline.Sub(now).Seconds())))
}

func (d *Dialog) wrap(c *Ctx, w int) {
	d.title = c.Wrap(c.S(d.Title), c.FontPx(SizeTitle), w)
	d.body = c.Wrap(c.S(d.Body), c.FontPx(SizeBody), w)
	d.count = ""
	if !d.Deadline.IsZero() {
		d.shown = d.Left(c.Now())
		d.count = c.T(d.CountdownKey, "s", d.shown)
	}
}

// Measure wraps title, message and countdown and adds the buttons.
func (d *Dialog) Measure(c *Ctx, w int) int {
	pad := c.Dp(24)
	in := w - 2*pad
	d.wrap(c, in)
	h := 2*pad + len(d.title)*c.LineHeight(c.FontPx(SizeTitle)) + c.Dp(12) +
		len(d.body)*c.LineHeight(c.FontPx(SizeBody)) + c.Dp(20) + d.Buttons.Measure(c, in)
	if d.count != "" {
		h += c.LineHeight(c.FontPx(SizeTitle)) + c.Dp(12)
	}
	return h
}

// Layout places the text and the buttons at the bottom.
func (d *Dialog) Layout(c *Ctx, r image.Rectangle) {
	d.R = r
	pad := c.Dp(24)
	in := r.Inset(pad)
	d.wrap(c, in.Dx())
	bh := d.Buttons.Measure(c, in.Dx())
	d.Buttons.Layout(c, image.Rect(in.Min.X, in.Max.Y-bh, in.Max.X, in.Max.Y))
}

func (d *Dialog) countRect(c *Ctx) image.Rectangle {
	pad := c.Dp(24)
	y := d.R.Min.Y + pad + len(d.title)*c.LineHeight(c.FontPx(SizeTitle)) + c.Dp(12) +
		len(d.body)*c.LineHeight(c.FontPx(SizeBody)) + c.Dp(12)
	return image.Rect(d.R.Min.X+pad, y, d.R.Max.X-pad, y+c.LineHeight(c.FontPx(SizeTitle)))
}

// Animate updates the countdown once a second and fires OnExpire.
func (d *Dialog) Animate(c *Ctx) {
	if d.Deadline.IsZero() {
		return
	}
	left := d.Left(c.Now())
	if left != d.shown {
		d.shown = left
		d.count = c.T(d.CountdownKey, "s", left)
		c.Invalidate(d.countRect(c))
	}
	if left == 0 && !d.expired {
		d.expired = true
		if d.OnExpire != nil {
			d.OnExpire()
		}
	}
	if left > 0 {
		// The next whole second shown, or the expiry.
		c.WakeAt(d.Deadline.Add(-time.Duration(left-1) * time.Second))
	}
}

// Draw draws the box, text, countdown and buttons.
func (d *Dialog) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	rad := c.Dp(16)
	c.P.RoundRect(dst, d.R, rad, t.Surface)
	c.P.Outline(dst, d.R, rad, max(2, c.Dp(2)), t.Border)
	pad := c.Dp(24)
	x0, x1 := d.R.Min.X+pad, d.R.Max.X-pad
	y := d.R.Min.Y + pad
	tp, bp := c.FontPx(SizeTitle), c.FontPx(SizeBody)
	c.Para(dst, d.Name+".title", d.title, tp, image.Rect(x0, y, x1, y+len(d.title)*c.LineHeight(tp)), 0, t.Text)
	y += len(d.title)*c.LineHeight(tp) + c.Dp(12)
	c.Para(dst, d.Name+".body", d.body, bp, image.Rect(x0, y, x1, y+len(d.body)*c.LineHeight(bp)), 0, t.Text)
	if d.count != "" {
		c.Text(dst, d.Name+".countdown", d.count, tp, d.countRect(c), 0, t.Error)
	}
	d.Buttons.Draw(c, dst)
}

// QR is a QR code of a text (a URL the citizen can open on their phone),
// drawn on a white quiet zone in every theme so phones can read it.
type QR struct {
	Base
	Height float64 // dp
	code   *qr.Code
}

// NewQR encodes text (error correction level M) into a QR widget height dp
// tall.
func NewQR(id, text string, height float64) (*QR, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, fmt.Errorf("encode QR code: %w", err)
	}
	return &QR{Base: Base{Name: id}, Height: height, code: code}, nil
}

// Measure returns the fixed height.
func (q *QR) Measure(c *Ctx, w int) int { return c.Dp(q.Height) }

// Draw draws the code with whole-pixel modules, centred.
func (q *QR) Draw(c *Ctx, dst *image.RGBA) {
	n := q.code.Size + 8 // four modules of quiet zone each side
	m := min(q.R.Dx(), q.R.Dy()) / n
	if m < 1 {
		return
	}
	s := m * n
	box := image.Rect(0, 0, s, s).Add(image.Pt(q.R.Min.X+(q.R.Dx()-s)/2, q.R.Min.Y+(q.R.Dy()-s)/2))
	c.P.Fill(dst, box, color.RGBA{255, 255, 255, 255})
	black := color.RGBA{0, 0, 0, 255}
	for y := 0; y < q.code.Size; y++ {
		for x := 0; x < q.code.Size; x++ {
			if q.code.Black(x, y) {
				p := box.Min.Add(image.Pt((x+4)*m, (y+4)*m))
				c.P.Fill(dst, image.Rectangle{p, p.Add(image.Pt(m, m))}, black)
			}
		}
	}
}
