package display

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"golang.org/x/image/vector"
)

// Painter draws shapes into frames with golang.org/x/image/vector. It keeps
// one rasterizer and reuses it, so drawing allocates nothing in the steady
// state. It is not safe for concurrent use.
type Painter struct {
	z      vector.Rasterizer
	src    image.Uniform
	clip   image.Rectangle
	ox, oy float32
}

// Fill fills r with c (opaque colours replace, translucent ones blend).
func (p *Painter) Fill(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	r = r.Intersect(dst.Bounds())
	if r.Empty() {
		return
	}
	p.src.C = c
	op := draw.Src
	if c.A != 0xff {
		op = draw.Over
	}
	draw.Draw(dst, r, &p.src, image.Point{}, op)
}

// begin readies the rasterizer for a path laid out in box (frame
// coordinates) and drawn only inside dst; it reports false when nothing of
// box is visible. The rasterizer covers just the visible part; path points
// are given relative to box.Min and shifted by (ox, oy).
func (p *Painter) begin(dst *image.RGBA, box image.Rectangle) bool {
	return p.beginClip(dst, box, box)
}

// beginClip is begin with the rasterized area limited further to clip.
func (p *Painter) beginClip(dst *image.RGBA, box, clip image.Rectangle) bool {
	p.clip = box.Intersect(dst.Bounds()).Intersect(clip)
	if p.clip.Empty() {
		return false
	}
	p.z.Reset(p.clip.Dx(), p.clip.Dy())
	p.ox, p.oy = float32(box.Min.X-p.clip.Min.X), float32(box.Min.Y-p.clip.Min.Y)
	return true
}

// fill draws the path begun with begin in colour c.
func (p *Painter) fill(dst *image.RGBA, c color.RGBA) {
	p.src.C = c
	p.z.DrawOp = draw.Over
	p.z.Draw(dst, p.clip, &p.src, image.Point{})
}

func (p *Painter) moveTo(x, y float32) { p.z.MoveTo(x+p.ox, y+p.oy) }
func (p *Painter) lineTo(x, y float32) { p.z.LineTo(x+p.ox, y+p.oy) }
func (p *Painter) cubeTo(a, b, c, d, e, f float32) {
	p.z.CubeTo(a+p.ox, b+p.oy, c+p.ox, d+p.oy, e+p.ox, f+p.oy)
}

// RoundRect fills r with corners of radius rad. Only the four corners go
// through the rasterizer; the rest is plain fills, which keeps large
// boxes cheap.
func (p *Painter) RoundRect(dst *image.RGBA, r image.Rectangle, rad int, c color.RGBA) {
	rad = min(rad, r.Dx()/2, r.Dy()/2)
	if rad <= 0 {
		p.Fill(dst, r, c)
		return
	}
	p.Fill(dst, image.Rect(r.Min.X, r.Min.Y+rad, r.Max.X, r.Max.Y-rad), c)
	p.Fill(dst, image.Rect(r.Min.X+rad, r.Min.Y, r.Max.X-rad, r.Min.Y+rad), c)
	p.Fill(dst, image.Rect(r.Min.X+rad, r.Max.Y-rad, r.Max.X-rad, r.Max.Y), c)
	for _, cr := range cornerBoxes(r, rad) {
		if p.beginClip(dst, r, cr) {
			p.roundPath(0, 0, float32(r.Dx()), float32(r.Dy()), float32(rad))
			p.fill(dst, c)
		}
	}
}

func cornerBoxes(r image.Rectangle, rad int) [4]image.Rectangle {
	return [4]image.Rectangle{
		image.Rect(r.Min.X, r.Min.Y, r.Min.X+rad, r.Min.Y+rad),
		image.Rect(r.Max.X-rad, r.Min.Y, r.Max.X, r.Min.Y+rad),
		image.Rect(r.Min.X, r.Max.Y-rad, r.Min.X+rad, r.Max.Y),
		image.Rect(r.Max.X-rad, r.Max.Y-rad, r.Max.X, r.Max.Y),
	}
}

// roundPath adds a rounded rectangle path; corners are cubic arcs.
func (p *Painter) roundPath(x0, y0, x1, y1, rad float32) {
	const k = 0.5523 // cubic approximation of a quarter circle
	p.moveTo(x0+rad, y0)
	p.lineTo(x1-rad, y0)
	p.cubeTo(x1-rad+rad*k, y0, x1, y0+rad-rad*k, x1, y0+rad)
	p.lineTo(x1, y1-rad)
	p.cubeTo(x1, y1-rad+rad*k, x1-rad+rad*k, y1, x1-rad, y1)
	p.lineTo(x0+rad, y1)
	p.cubeTo(x0+rad-rad*k, y1, x0, y1-rad+rad*k, x0, y1-rad)
	p.lineTo(x0, y0+rad)
	p.cubeTo(x0, y0+rad-rad*k, x0+rad-rad*k, y0, x0+rad, y0)
	p.z.ClosePath()
}

// Outline draws a rounded rectangle border of width w inside r; like
// RoundRect, only the corners are rasterized.
func (p *Painter) Outline(dst *image.RGBA, r image.Rectangle, rad, w int, c color.RGBA) {
	rad = max(min(rad, r.Dx()/2, r.Dy()/2), w)
	p.Fill(dst, image.Rect(r.Min.X+rad, r.Min.Y, r.Max.X-rad, r.Min.Y+w), c)
	p.Fill(dst, image.Rect(r.Min.X+rad, r.Max.Y-w, r.Max.X-rad, r.Max.Y), c)
	p.Fill(dst, image.Rect(r.Min.X, r.Min.Y+rad, r.Min.X+w, r.Max.Y-rad), c)
	p.Fill(dst, image.Rect(r.Max.X-w, r.Min.Y+rad, r.Max.X, r.Max.Y-rad), c)
	fw, fh, fr, t := float32(r.Dx()), float32(r.Dy()), float32(rad), float32(w)
	for _, cr := range cornerBoxes(r, rad) {
		if p.beginClip(dst, r, cr) {
			p.roundPath(0, 0, fw, fh, fr)
			// The inner path runs the other way so the nonzero rule
			// leaves a hole.
			p.roundPathReverse(t, t, fw-t, fh-t, max(fr-t, 0))
			p.fill(dst, c)
		}
	}
}

func (p *Painter) roundPathReverse(x0, y0, x1, y1, rad float32) {
	const k = 0.5523
	p.moveTo(x0+rad, y0)
	p.cubeTo(x0+rad-rad*k, y0, x0, y0+rad-rad*k, x0, y0+rad)
	p.lineTo(x0, y1-rad)
	p.cubeTo(x0, y1-rad+rad*k, x0+rad-rad*k, y1, x0+rad, y1)
	p.lineTo(x1-rad, y1)
	p.cubeTo(x1-rad+rad*k, y1, x1, y1-rad+rad*k, x1, y1-rad)
	p.lineTo(x1, y0+rad)
	p.cubeTo(x1, y0+rad-rad*k, x1-rad+rad*k, y0, x1-rad, y0)
	p.z.ClosePath()
}

// Icon names the vector icons widgets draw.
type Icon int

// Icons.
const (
	IconCheck Icon = iota
	IconBackspace
	IconShift
	IconEnter
	IconChevronRight
	IconBack
)

// DrawIcon draws icon ic centred in box, as large as fits, in colour c.
// Icons are paths on a 24×24 grid.
func (p *Painter) DrawIcon(dst *image.RGBA, box image.Rectangle, ic Icon, c color.RGBA) {
	s := min(box.Dx(), box.Dy())
	r := image.Rect(0, 0, s, s).Add(box.Min).Add(image.Pt((box.Dx()-s)/2, (box.Dy()-s)/2))
	if !p.begin(dst, r) {
		return
	}
	u := float32(s) / 24
	stroke := func(w float32, pts ...float32) { p.polyline(u, w, pts) }
	switch ic {
	case IconCheck:
		stroke(3, 4, 12.5, 9.5, 18, 20, 6.5)
	case IconBackspace:
		stroke(2, 8, 5, 21, 5, 21, 19, 8, 19, 2, 12, 8, 5)
		stroke(2, 11, 9, 17, 15)
		stroke(2, 17, 9, 11, 15)
	case IconShift:
		stroke(2, 12, 3, 21, 12, 16, 12, 16, 20, 8, 20, 8, 12, 3, 12, 12, 3)
	case IconEnter:
		stroke(2.2, 20, 5, 20, 14, 5, 14)
		stroke(2.2, 9, 9.5, 4.5, 14, 9, 18.5)
	case IconChevronRight:
		stroke(2.5, 9, 5, 16, 12, 9, 19)
	case IconBack:
		stroke(2.5, 15, 5, 8, 12, 15, 19)
	}
	p.fill(dst, c)
}

// polyline adds a stroked polyline of width w (grid units) as filled quads
// with round-ish joins (a small square at each vertex).
func (p *Painter) polyline(u, w float32, pts []float32) {
	h := w / 2
	for i := 0; i+3 < len(pts); i += 2 {
		x0, y0, x1, y1 := pts[i], pts[i+1], pts[i+2], pts[i+3]
		dx, dy := x1-x0, y1-y0
		l := float32(math.Hypot(float64(dx), float64(dy)))
		if l == 0 {
			continue
		}
		nx, ny := -dy/l*h, dx/l*h
		ex, ey := dx/l*h, dy/l*h // extend ends so joins close
		p.z.MoveTo(u*(x0+nx-ex), u*(y0+ny-ey))
		p.z.LineTo(u*(x1+nx+ex), u*(y1+ny+ey))
		p.z.LineTo(u*(x1-nx+ex), u*(y1-ny+ey))
		p.z.LineTo(u*(x0-nx-ex), u*(y0-ny-ey))
		p.z.ClosePath()
	}
}

// Arc draws a stroked circular arc of width w centred in box, from angle a0
// sweeping sweep radians (clockwise on screen), for the spinner.
func (p *Painter) Arc(dst *image.RGBA, box image.Rectangle, a0, sweep float64, w int, c color.RGBA) {
	if !p.begin(dst, box) {
		return
	}
	cx, cy := float64(box.Dx())/2, float64(box.Dy())/2
	ro := math.Min(cx, cy)
	ri := ro - float64(w)
	const steps = 48
	pt := func(r, a float64) (float32, float32) {
		return float32(cx + r*math.Cos(a)), float32(cy + r*math.Sin(a))
	}
	x, y := pt(ro, a0)
	p.z.MoveTo(x, y)
	for i := 1; i <= steps; i++ {
		p.z.LineTo(pt(ro, a0+sweep*float64(i)/steps))
	}
	for i := steps; i >= 0; i-- {
		p.z.LineTo(pt(ri, a0+sweep*float64(i)/steps))
	}
	p.z.ClosePath()
	p.fill(dst, c)
}
