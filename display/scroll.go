package display

import (
	"fmt"
	"image"
)

// ScrollText is a box of long wrapped text (terms of service) that the
// reader scrolls by dragging; it reports once when the reader reached the
// end, so "I have read the rules" can be enabled only then.
type ScrollText struct {
	Base
	Text Msg
	// Height of the box in dp.
	Height float64
	// OnEnd runs once, the first time the last line is in view.
	OnEnd func()
	// Speech, when set, is the text's paragraphs as they are said (the
	// tactile keys step through them); else the text is one paragraph.
	Speech  []Msg
	para    int
	offset  int
	reached bool
	lines   []string
	px      int
	textH   int
}

// NewScrollText returns a scrolling text box height dp tall.
func NewScrollText(id string, text Msg, height float64) *ScrollText {
	return &ScrollText{Base: Base{Name: id}, Text: text, Height: height}
}

// Reached reports whether the reader has seen the end.
func (st *ScrollText) Reached() bool { return st.reached }

// Measure returns the box height.
func (st *ScrollText) Measure(c *Ctx, w int) int { return c.Dp(st.Height) }

func (st *ScrollText) inner(c *Ctx) image.Rectangle { return st.R.Inset(c.Dp(14)) }

// Layout re-wraps the text; the reading position is kept as a fraction of
// the text so a language or text-size switch keeps the reader's place.
func (st *ScrollText) Layout(c *Ctx, r image.Rectangle) {
	frac := 0.0
	if st.textH > 0 {
		frac = float64(st.offset) / float64(st.textH)
	}
	st.R = r
	st.px = c.FontPx(SizeBody)
	in := st.inner(c)
	st.lines = c.Wrap(c.S(st.Text), st.px, in.Dx()-c.Dp(12))
	st.textH = len(st.lines) * c.LineHeight(st.px)
	st.offset = int(frac * float64(st.textH))
	st.clamp(c)
}

func (st *ScrollText) clamp(c *Ctx) {
	in := st.inner(c)
	st.offset = max(0, min(st.offset, st.textH-in.Dy()))
	if !st.reached && st.offset+in.Dy() >= st.textH && in.Dy() > 0 {
		st.reached = true
		if st.OnEnd != nil {
			st.OnEnd()
		}
	}
}

// ScrollBy scrolls the text.
func (st *ScrollText) ScrollBy(c *Ctx, dy int) {
	st.offset += dy
	st.clamp(c)
	c.Invalidate(st.R)
}

// Handle takes the press so a drag scrolls this box, not the page.
func (st *ScrollText) Handle(c *Ctx, ev Event) bool {
	return ev.Kind == PointerDown
}

// Draw draws the box, the visible lines and a scroll indicator.
func (st *ScrollText) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	rad := c.Dp(8)
	c.P.RoundRect(dst, st.R, rad, t.Surface)
	c.P.Outline(dst, st.R, rad, max(1, c.Dp(1.5)), t.Border)
	in := st.inner(c)
	vis := in.Intersect(dst.Rect)
	if vis.Empty() {
		return
	}
	sub := dst.SubImage(vis).(*image.RGBA)
	lh := c.LineHeight(st.px)
	first := st.offset / max(1, lh)
	for i := first; i < len(st.lines) && i*lh-st.offset < in.Dy(); i++ {
		y := in.Min.Y + i*lh - st.offset
		c.Text(sub, st.Name, st.lines[i], st.px, image.Rect(in.Min.X, y, in.Max.X-c.Dp(12), y+lh), 0, t.Text)
	}
	if st.textH > in.Dy() {
		drawScrollbar(c, dst, st.R.Inset(c.Dp(4)), st.offset, st.textH)
	}
}

// Section is a group of a list picker's items with a title shown in the
// list and in its index.
type Section struct {
	Title Msg
	Items []Item
}

// Item is one choice: a stable ID and its text.
type Item struct {
	ID   string
	Text Msg
	// Say, when set, is what the item says instead of its text.
	Say Msg
}

// ListPicker is a scrolling list of large rows grouped in sections, with an
// index strip of the section titles at its side (county → township →
// village pickers). Rows have IDs "<list id>.<item id>", index entries
// "<list id>.index.<n>".
type ListPicker struct {
	Base
	Height   float64 // dp
	OnSelect func(Item)
	Selected string
	sections []Section
	rows     []*listRow
	index    []*listRow
	offset   int
	contentH int
}

type listRow struct {
	Base
	text    Msg
	item    Item
	title   bool
	section int
	pressed bool
	lp      *ListPicker
}

// NewListPicker returns a list height dp tall.
func NewListPicker(id string, height float64, sections ...Section) *ListPicker {
	lp := &ListPicker{Base: Base{Name: id}, Height: height}
	lp.SetSections(sections...)
	return lp
}

// SetSections replaces the choices (the next level of a cascade) and
// scrolls to the top.
func (lp *ListPicker) SetSections(sections ...Section) {
	lp.sections, lp.rows, lp.index, lp.offset = sections, nil, nil, 0
	for si, s := range sections {
		if !s.Title.IsZero() {
			lp.rows = append(lp.rows, &listRow{Base: Base{Name: fmt.Sprintf("%s.section.%d", lp.Name, si)}, text: s.Title, title: true, section: si, lp: lp})
			lp.index = append(lp.index, &listRow{Base: Base{Name: fmt.Sprintf("%s.index.%d", lp.Name, si)}, text: s.Title, section: si, lp: lp})
		}
		for _, it := range s.Items {
			lp.rows = append(lp.rows, &listRow{Base: Base{Name: lp.Name + "." + it.ID}, text: it.Text, item: it, section: si, lp: lp})
		}
	}
}

// Children returns rows and index entries.
func (lp *ListPicker) Children() []Widget {
	ws := make([]Widget, 0, len(lp.rows)+len(lp.index))
	for _, r := range lp.rows {
		ws = append(ws, r)
	}
	for _, r := range lp.index {
		ws = append(ws, r)
	}
	return ws
}

// Measure returns the box height.
func (lp *ListPicker) Measure(c *Ctx, w int) int { return c.Dp(lp.Height) }

func (lp *ListPicker) indexW(c *Ctx) int {
	if len(lp.index) == 0 {
		return 0
	}
	w := c.Target()
	for _, r := range lp.index {
		w = max(w, c.Font().Width(c.S(r.text), c.FontPx(SizeSmall))+c.Dp(16))
	}
	return w
}

// Layout places rows at the scroll offset and the index down the side.
func (lp *ListPicker) Layout(c *Ctx, r image.Rectangle) {
	lp.R = r
	iw := lp.indexW(c)
	list := image.Rect(r.Min.X, r.Min.Y, r.Max.X-iw, r.Max.Y)
	h := 0
	for _, row := range lp.rows {
		h += row.measure(c, list.Dx())
	}
	lp.contentH = h
	lp.offset = max(0, min(lp.offset, h-r.Dy()))
	y := r.Min.Y - lp.offset
	for _, row := range lp.rows {
		rh := row.measure(c, list.Dx())
		row.R = image.Rect(list.Min.X, y, list.Max.X, y+rh)
		y += rh
	}
	if n := len(lp.index); n > 0 {
		ih := r.Dy() / n
		for i, row := range lp.index {
			row.R = image.Rect(r.Max.X-iw, r.Min.Y+i*ih, r.Max.X, r.Min.Y+(i+1)*ih)
		}
	}
}

func (row *listRow) measure(c *Ctx, w int) int {
	if row.title {
		return c.LineHeight(c.FontPx(SizeSmall)) + 2*c.Dp(6)
	}
	lines := c.Wrap(c.S(row.text), c.FontPx(SizeBody), w-c.Dp(64))
	return max(c.Target()+c.Dp(8), len(lines)*c.LineHeight(c.FontPx(SizeBody))+c.Dp(16))
}

// ScrollBy scrolls the rows.
func (lp *ListPicker) ScrollBy(c *Ctx, dy int) {
	lp.offset += dy
	lp.Layout(c, lp.R)
	c.Invalidate(lp.R)
}

// Reveal scrolls so r is in view.
func (lp *ListPicker) Reveal(c *Ctx, r image.Rectangle) {
	switch {
	case r.Min.Y < lp.R.Min.Y:
		lp.ScrollBy(c, r.Min.Y-lp.R.Min.Y)
	case r.Max.Y > lp.R.Max.Y:
		lp.ScrollBy(c, r.Max.Y-lp.R.Max.Y)
	}
}

// Draw draws the visible rows and the index.
func (lp *ListPicker) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	rad := c.Dp(8)
	c.P.RoundRect(dst, lp.R, rad, t.Surface)
	vis := lp.R.Intersect(dst.Rect)
	if vis.Empty() {
		return
	}
	sub := dst.SubImage(vis).(*image.RGBA)
	for _, row := range lp.rows {
		if row.R.Overlaps(vis) {
			row.Draw(c, sub)
		}
	}
	for _, row := range lp.index {
		row.Draw(c, sub)
	}
	if lp.contentH > lp.R.Dy() && len(lp.index) == 0 {
		drawScrollbar(c, sub, lp.R, lp.offset, lp.contentH)
	}
	c.P.Outline(dst, lp.R, rad, max(1, c.Dp(1.5)), t.Border)
}

// Draw draws a section title, an index entry or an item row.
func (row *listRow) Draw(c *Ctx, dst *image.RGBA) {
	t := c.Theme()
	lp := row.lp
	switch {
	case row.title:
		c.P.Fill(dst, row.R, t.Background)
		px := c.FontPx(SizeSmall)
		c.Text(dst, row.Name, c.S(row.text), px, row.R.Inset(c.Dp(6)).Add(image.Pt(c.Dp(10), 0)), 0, t.Muted)
	case lp.index != nil && row.item.ID == "" && !row.title: // an index entry
		bg := t.Secondary
		if row.pressed {
			bg = t.KeyPressed
		}
		c.P.Fill(dst, row.R, bg)
		c.P.Fill(dst, image.Rect(row.R.Min.X, row.R.Min.Y, row.R.Min.X+max(1, c.Dp(1)), row.R.Max.Y), t.Border)
		c.Text(dst, row.Name, c.S(row.text), c.FontPx(SizeSmall), row.R.Inset(c.Dp(4)), 1, t.OnSecond)
	default:
		if row.pressed || lp.Selected == row.item.ID {
			c.P.Fill(dst, row.R, t.KeyPressed)
		}
		c.P.Fill(dst, image.Rect(row.R.Min.X+c.Dp(12), row.R.Max.Y-max(1, c.Dp(1)), row.R.Max.X, row.R.Max.Y), t.Border)
		px := c.FontPx(SizeBody)
		in := image.Rect(row.R.Min.X+c.Dp(20), row.R.Min.Y+c.Dp(8), row.R.Max.X-c.Dp(44), row.R.Max.Y-c.Dp(8))
		lines := c.Wrap(c.S(row.text), px, in.Dx())
		th := len(lines) * c.LineHeight(px)
		c.Para(dst, row.Name, lines, px, image.Rect(in.Min.X, in.Min.Y+(in.Dy()-th)/2, in.Max.X, in.Min.Y+(in.Dy()+th)/2), 0, t.Text)
		ic := c.Dp(24)
		c.P.DrawIcon(dst, image.Rect(row.R.Max.X-c.Dp(36), row.R.Min.Y+(row.R.Dy()-ic)/2, row.R.Max.X-c.Dp(36)+ic, row.R.Min.Y+(row.R.Dy()+ic)/2), IconChevronRight, t.Muted)
	}
}

// Measure returns the height the list gave the row.
func (row *listRow) Measure(c *Ctx, w int) int { return row.R.Dy() }

// Handle selects the item, or jumps to the section of an index entry.
func (row *listRow) Handle(c *Ctx, ev Event) bool {
	if row.title {
		return false
	}
	lp := row.lp
	return press(c, &row.pressed, row.R, ev, func() {
		if row.item.ID == "" { // index entry: jump to the section title
			for _, r := range lp.rows {
				if r.title && r.section == row.section {
					lp.ScrollBy(c, r.R.Min.Y-lp.R.Min.Y)
					return
				}
			}
			return
		}
		lp.Selected = row.item.ID
		c.Invalidate(lp.R)
		if lp.OnSelect != nil {
			lp.OnSelect(row.item)
		}
	})
}
