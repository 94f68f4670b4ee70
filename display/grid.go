package display

import (
	"image"
)

// Cell is one choice of a Grid: a stable ID, its text, and an optional
// line in small type under it (what a group holds, a stroke range). The
// grid's columns are as wide as the widest text or note.
type Cell struct {
	ID   string
	Text Msg
	Note Msg
	// Say, when set, is what the cell says instead of its text (issue 20).
	Say Msg
}

// Grid is a picker's choices as large cells in as many columns as the
// widest text allows, every row at least one touch target tall: counties,
// townships or villages, or the groups a long list is split into. It
// scrolls when the cells do not all fit its height; UI.GridCapacity tells
// how many fit, so a caller can split a list so that they never have to.
// Cells have IDs "<grid id>.<cell id>"; the Selected one is drawn as the
// current choice.
type Grid struct {
	Base
	Height   float64 // dp
	Selected string
	OnSelect func(Cell)
	cells    []*gridCell
	offset   int
	contentH int
}

type gridCell struct {
	Base
	cell    Cell
	pressed bool
	g       *Grid
}

// NewGrid returns a grid height dp tall.
func NewGrid(id string, height float64, cells ...Cell) *Grid {
	g := &Grid{Base: Base{Name: id}, Height: height}
	for _, c := range cells {
		g.cells = append(g.cells, &gridCell{Base: Base{Name: id + "." + c.ID}, cell: c, g: g})
	}
	return g
}

// Cells returns the grid's cells, in order.
func (g *Grid) Cells() []Cell {
	cs := make([]Cell, len(g.cells))
	for i, gc := range g.cells {
		cs[i] = gc.cell
	}
	return cs
}

// Children returns the cells.
func (g *Grid) Children() []Widget {
	ws := make([]Widget, len(g.cells))
	for i, c := range g.cells {
		ws[i] = c
	}
	return ws
}

// Measure returns the grid's height.
func (g *Grid) Measure(c *Ctx, w int) int { return c.Dp(g.Height) }

// gridGap is the space between cells, in dp.
const gridGap = 6

// gridGeometry returns how many columns cells get in width w, and each
// cell's width and height.
func gridGeometry(c *Ctx, w int, cells []Cell) (cols, cellW, cellH int) {
	px, small := c.FontPx(SizeBody), c.FontPx(SizeSmall)
	pad, gap := c.Dp(12), c.Dp(gridGap)
	widest, notes := 0, false
	for _, cl := range cells {
		widest = max(widest, c.Font().Width(c.S(cl.Text), px))
		if !cl.Note.IsZero() {
			notes = true
			widest = max(widest, c.Font().Width(c.S(cl.Note), small))
		}
	}
	cellW = max(widest+2*pad, c.Target())
	cols = max(1, min(len(cells), (w+gap)/(cellW+gap)))
	cellW = (w - (cols-1)*gap) / cols
	// Text wider than the whole grid wraps: the cells grow to hold it.
	lines, noteLines := 1, 0
	if notes {
		noteLines = 1
	}
	for _, cl := range cells {
		if widest+2*pad <= cellW {
			break // every text fits on one line
		}
		lines = max(lines, len(c.Wrap(c.S(cl.Text), px, cellW-2*c.Dp(1))))
		if notes {
			noteLines = max(noteLines, len(c.Wrap(c.S(cl.Note), small, cellW-2*c.Dp(1))))
		}
	}
	cellH = max(c.Target(), lines*c.LineHeight(px)+2*c.Dp(8))
	if notes {
		cellH = max(cellH, lines*c.LineHeight(px)+noteLines*c.LineHeight(small)+2*c.Dp(1))
	}
	return cols, cellW, cellH
}

// GridCapacity returns how many of cells a Grid height dp tall, across
// the page's body, shows without scrolling.
func (u *UI) GridCapacity(height float64, cells []Cell) int {
	c := &u.ctx
	w := u.Size().X - 2*c.Dp(16) // the body's padding (ScrollView)
	cols, _, cellH := gridGeometry(c, w, cells)
	gap := c.Dp(gridGap)
	rows := (c.Dp(height) + gap) / (cellH + gap)
	return cols * rows
}

// Layout places the cells row by row at the scroll offset.
func (g *Grid) Layout(c *Ctx, r image.Rectangle) {
	g.R = r
	cols, cellW, cellH := gridGeometry(c, r.Dx(), g.Cells())
	gap := c.Dp(gridGap)
	rows := (len(g.cells) + cols - 1) / cols
	g.contentH = max(0, rows*(cellH+gap)-gap)
	g.offset = max(0, min(g.offset, g.contentH-r.Dy()))
	for i, gc := range g.cells {
		x := r.Min.X + (i%cols)*(cellW+gap)
		y := r.Min.Y + (i/cols)*(cellH+gap) - g.offset
		gc.R = image.Rect(x, y, x+cellW, y+cellH)
	}
}

// ScrollBy scrolls the cells (only when they do not all fit).
func (g *Grid) ScrollBy(c *Ctx, dy int) {
	g.offset += dy
	g.Layout(c, g.R)
	c.Invalidate(g.R)
}

// Reveal scrolls so r is in view.
func (g *Grid) Reveal(c *Ctx, r image.Rectangle) {
	switch {
	case r.Min.Y < g.R.Min.Y:
		g.ScrollBy(c, r.Min.Y-g.R.Min.Y)
	case r.Max.Y > g.R.Max.Y:
		g.ScrollBy(c, r.Max.Y-g.R.Max.Y)
	}
}

// Draw draws the cells in view and, when they do not all fit, a scroll
// indicator.
func (g *Grid) Draw(c *Ctx, dst *image.RGBA) {
	vis := g.R.Intersect(dst.Rect)
	if vis.Empty() {
		return
	}
	sub := dst.SubImage(vis).(*image.RGBA)
	for _, gc := range g.cells {
		if gc.R.Overlaps(vis) {
			gc.Draw(c, sub)
		}
	}
	if g.contentH > g.R.Dy() {
		drawScrollbar(c, sub, g.R, g.offset, g.contentH)
	}
}

// Measure returns the height the grid gave the cell.
func (gc *gridCell) Measure(c *Ctx, w int) int { return gc.R.Dy() }

// Draw draws one cell: the current choice in the primary colour, the
// others as secondary buttons; the text centred, the note under it.
func (gc *gridCell) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	bg, fg, note := t.Secondary, t.OnSecond, t.OnSecond
	if gc.g.Selected == gc.cell.ID {
		bg, fg, note = t.Primary, t.OnPrimary, t.OnPrimary
	}
	if gc.pressed {
		bg, fg, note = t.KeyPressed, t.OnKey, t.OnKey
	}
	rad := c.Dp(10)
	c.P.RoundRect(dst, gc.R, rad, bg)
	c.P.Outline(dst, gc.R, rad, max(2, c.Dp(2)), t.Border)
	px, small := c.FontPx(SizeBody), c.FontPx(SizeSmall)
	in := gc.R.Inset(c.Dp(1))
	lines := c.Wrap(c.S(gc.cell.Text), px, in.Dx())
	var notes []string
	if !gc.cell.Note.IsZero() {
		notes = c.Wrap(c.S(gc.cell.Note), small, in.Dx())
	}
	th := len(lines)*c.LineHeight(px) + len(notes)*c.LineHeight(small)
	y := in.Min.Y + (in.Dy()-th)/2
	c.Para(dst, gc.Name, lines, px, image.Rect(in.Min.X, y, in.Max.X, y+len(lines)*c.LineHeight(px)), 1, fg)
	y += len(lines) * c.LineHeight(px)
	c.Para(dst, gc.Name+".note", notes, small, image.Rect(in.Min.X, y, in.Max.X, y+len(notes)*c.LineHeight(small)), 1, note)
}

// Handle selects the cell on a tap.
func (gc *gridCell) Handle(c *Ctx, ev Event) bool {
	return press(c, &gc.pressed, gc.R, ev, func() {
		gc.g.Selected = gc.cell.ID
		c.Invalidate(gc.g.R)
		if gc.g.OnSelect != nil {
			gc.g.OnSelect(gc.cell)
		}
	})
}

// Choice shows one level of a choice made in steps (county, township,
// village) as a button: a caption in small type over the current value,
// or over a prompt while there is none. Open marks the level being chosen
// now; tapping a Choice goes back to choose that level again.
type Choice struct {
	Base
	Caption, Value, Prompt Msg
	// Say, when set, is how Value is said (issue 20).
	Say            Msg
	Open, Disabled bool
	OnTap          func()
	pressed        bool
}

// NewChoice returns a choice showing value (or prompt when value is
// zero) under caption.
func NewChoice(id string, caption, value, prompt Msg, onTap func()) *Choice {
	return &Choice{Base: Base{Name: id}, Caption: caption, Value: value, Prompt: prompt, OnTap: onTap}
}

func (ch *Choice) text() Msg {
	if ch.Value.IsZero() {
		return ch.Prompt
	}
	return ch.Value
}

// Measure fits the caption and the value, wrapped, in a touch target.
func (ch *Choice) Measure(c *Ctx, w int) int {
	px, small := c.FontPx(SizeBody), c.FontPx(SizeSmall)
	in := w - 2*c.Dp(10)
	h := len(c.Wrap(c.S(ch.Caption), small, in))*c.LineHeight(small) + len(c.Wrap(c.S(ch.text()), px, in))*c.LineHeight(px)
	return max(c.Target(), h+2*c.Dp(2))
}

// Draw draws the choice: the level being chosen with a thick primary
// frame, a level without a value yet in muted text.
func (ch *Choice) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	bg, fg := t.Surface, t.Text
	switch {
	case ch.pressed:
		bg, fg = t.KeyPressed, t.OnKey
	case ch.Disabled:
		bg, fg = t.Background, t.Muted
	}
	rad := c.Dp(10)
	c.P.RoundRect(dst, ch.R, rad, bg)
	if ch.Open {
		c.P.Outline(dst, ch.R, rad, max(3, c.Dp(4)), t.Primary)
	} else {
		c.P.Outline(dst, ch.R, rad, max(2, c.Dp(2)), t.Border)
	}
	px, small := c.FontPx(SizeBody), c.FontPx(SizeSmall)
	in := ch.R.Inset(c.Dp(10))
	caps := c.Wrap(c.S(ch.Caption), small, in.Dx())
	vals := c.Wrap(c.S(ch.text()), px, in.Dx())
	th := len(caps)*c.LineHeight(small) + len(vals)*c.LineHeight(px)
	y := ch.R.Min.Y + (ch.R.Dy()-th)/2
	capCol, valCol := t.Muted, fg
	if ch.Value.IsZero() {
		valCol = t.Muted
	}
	if ch.pressed {
		capCol = t.OnKey
	}
	c.Para(dst, ch.Name+".caption", caps, small, image.Rect(in.Min.X, y, in.Max.X, y+len(caps)*c.LineHeight(small)), 0, capCol)
	y += len(caps) * c.LineHeight(small)
	c.Para(dst, ch.Name+".value", vals, px, image.Rect(in.Min.X, y, in.Max.X, y+len(vals)*c.LineHeight(px)), 0, valCol)
}

// Handle taps the choice.
func (ch *Choice) Handle(c *Ctx, ev Event) bool {
	if ch.Disabled {
		return false
	}
	return press(c, &ch.pressed, ch.R, ev, ch.OnTap)
}

// FillHeight returns, in dp, the height a widget appended to p's body can
// take for the body to fit between p's header and footer without
// scrolling: the screen less the header, the footer, the body's padding,
// the widgets already in p.Body and the gaps between them. The keyboard,
// closed when a page is shown, is not counted.
func (u *UI) FillHeight(p *Page) float64 {
	c := &u.ctx
	size := u.Size()
	h := size.Y - 2*c.Dp(12) // the body's padding (ScrollView)
	if p.Header != nil {
		h -= p.Header.Measure(c, size.X)
	}
	if len(p.Footer) > 0 {
		pad := c.Dp(12)
		h -= NewRow("", p.Footer...).Measure(c, size.X-2*pad) + 2*pad
	}
	w, gap := size.X-2*c.Dp(16), c.Dp(12)
	for _, it := range p.Body {
		h -= it.Measure(c, w) + gap
	}
	return float64(max(h, 0)) / u.scale
}
