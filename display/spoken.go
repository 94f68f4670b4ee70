package display

// Spoken forms (issue 20): what each widget says when the tactile keys
// bring the focus to it, as catalog messages with values, so the same
// screen is heard through headphones in the person's language and checked
// by tests without sound. A masked field says how many characters it
// holds, never which.

// Spoken is a widget the tactile keys can reach, and what it says.
type Spoken interface {
	Widget
	Spoken(c *Ctx) []Msg
}

// Activator is a widget the select key acts on (as a tap would).
type Activator interface {
	Activate(c *Ctx)
}

func say(key string, args ...any) Msg { return M(key, args...) }

// Spoken returns the title and the step.
func (h *Header) Spoken(c *Ctx) []Msg {
	out := []Msg{h.Title}
	if h.Steps > 0 {
		out = append(out, say("display.step", "n", h.Step, "total", h.Steps))
	}
	return out
}

// Spoken returns the text, or Speech when set (a composed text).
func (l *Label) Spoken(c *Ctx) []Msg {
	if len(l.Speech) > 0 {
		return l.Speech
	}
	if l.Text.IsZero() {
		return nil
	}
	return []Msg{l.Text}
}

// Spoken returns the label, "button", and whether it can be used.
func (b *Button) Spoken(c *Ctx) []Msg {
	out := []Msg{b.Label, say("display.say.button")}
	if b.Disabled {
		out = append(out, say("display.say.unavailable"))
	}
	return out
}

// Activate taps the button, if it is enabled.
func (b *Button) Activate(c *Ctx) {
	if !b.Disabled && b.OnTap != nil {
		b.OnTap()
	}
}

// Spoken returns the label, "edit field", the contents (a count when
// masked, the hint when empty) and the error line.
func (f *Field) Spoken(c *Ctx) []Msg {
	out := []Msg{f.Label, say("display.say.edit")}
	switch {
	case len(f.value) == 0 && !f.Hint.IsZero():
		out = append(out, say("display.say.empty"), f.Hint)
	case len(f.value) == 0:
		out = append(out, say("display.say.empty"))
	case f.Masked:
		out = append(out, say("display.say.masked", "n", f.Len()))
	default:
		out = append(out, Lit(string(f.value)))
	}
	if !f.Error.IsZero() {
		out = append(out, say("display.say.error"), f.Error)
	}
	return out
}

// Activate gives the field the keyboard.
func (f *Field) Activate(c *Ctx) { c.Focus(f) }

// Spoken returns the label and whether it is checked.
func (cb *Checkbox) Spoken(c *Ctx) []Msg {
	state := "display.say.unchecked"
	if cb.Checked {
		state = "display.say.checked"
	}
	return []Msg{cb.Label, say(state)}
}

// Activate toggles the box.
func (cb *Checkbox) Activate(c *Ctx) {
	cb.Checked = !cb.Checked
	c.Invalidate(cb.R)
	if cb.OnChange != nil {
		cb.OnChange(cb.Checked)
	}
}

// Spoken returns the strength word.
func (m *StrengthMeter) Spoken(c *Ctx) []Msg {
	keys := m.Keys
	if len(keys) != len(strengthKeys) {
		keys = strengthKeys
	}
	return []Msg{say("display.say.strength", "s", M(keys[PasswordStrength(m.Value())]))}
}

// Spoken returns the picture's description.
func (p *Picture) Spoken(c *Ctx) []Msg {
	if p.Alt.IsZero() {
		return nil
	}
	return []Msg{say("display.say.picture"), p.Alt}
}

// Spoken says what the code is; its text is on the page beside it.
func (q *QR) Spoken(c *Ctx) []Msg { return []Msg{say("display.say.qr")} }

// Spoken returns the title, message and countdown.
func (d *Dialog) Spoken(c *Ctx) []Msg {
	out := []Msg{d.Title, d.Body}
	if !d.Deadline.IsZero() {
		out = append(out, say(d.CountdownKey, "s", d.Left(c.Now())))
	}
	return out
}

// Spoken returns the row's text and, for an item, its place in the list.
func (row *listRow) Spoken(c *Ctx) []Msg {
	if row.item.ID == "" {
		return nil // section titles and the index: the rows say enough
	}
	lp := row.lp
	i, n := 0, 0
	for _, r := range lp.rows {
		if r.item.ID == "" {
			continue
		}
		n++
		if r == row {
			i = n
		}
	}
	text := row.text
	if !row.item.Say.IsZero() {
		text = row.item.Say
	}
	out := []Msg{text, say("display.say.item", "i", i, "n", n)}
	if lp.Selected == row.item.ID {
		out = append(out, say("display.say.selected"))
	}
	return out
}

// Activate selects the row's item.
func (row *listRow) Activate(c *Ctx) {
	if row.item.ID == "" {
		return
	}
	lp := row.lp
	lp.Selected = row.item.ID
	c.Invalidate(lp.R)
	if lp.OnSelect != nil {
		lp.OnSelect(row.item)
	}
}

// Spoken returns the key's name.
func (k *keyCap) Spoken(c *Ctx) []Msg {
	switch k.Name {
	case "key.shift":
		return []Msg{say("display.key.shift")}
	case "key.backspace":
		return []Msg{say("display.key.backspace")}
	}
	return []Msg{k.label}
}

// Activate presses the key.
func (k *keyCap) Activate(c *Ctx) { k.fire(c, k) }

// Spoken returns the paragraph the reader is at, with where it is.
func (st *ScrollText) Spoken(c *Ctx) []Msg {
	paras := st.paragraphs()
	if len(paras) == 0 {
		return nil
	}
	i := min(st.para, len(paras)-1)
	return []Msg{paras[i], say("display.say.paragraph", "i", i+1, "n", len(paras))}
}

// paragraphs are what the text is read as: Speech when set, else the
// text's lines separated by blank lines.
func (st *ScrollText) paragraphs() []Msg {
	if len(st.Speech) > 0 {
		return st.Speech
	}
	return []Msg{st.Text}
}

// step moves the reading position by one paragraph, scrolling the box so
// that paragraph is in view (the last one reaches the end, as scrolling
// would); it reports false at either end.
func (st *ScrollText) step(c *Ctx, dir int) bool {
	n := len(st.paragraphs())
	next := st.para + dir
	if next < 0 || next >= n {
		return false
	}
	st.para = next
	if next == n-1 {
		st.ScrollBy(c, st.textH)
	} else {
		st.ScrollBy(c, st.textH*next/n-st.offset)
	}
	return true
}

// Spoken returns the cell's text (or Say), its note, its place among the
// cells, and whether it is the current choice.
func (gc *gridCell) Spoken(c *Ctx) []Msg {
	text := gc.cell.Text
	if !gc.cell.Say.IsZero() {
		text = gc.cell.Say
	}
	out := []Msg{text}
	if !gc.cell.Note.IsZero() && gc.cell.Say.IsZero() {
		out = append(out, gc.cell.Note)
	}
	i := indexOf(gc.g.Children(), Widget(gc)) + 1
	out = append(out, say("display.say.item", "i", i, "n", len(gc.g.cells)))
	if gc.g.Selected == gc.cell.ID {
		out = append(out, say("display.say.selected"))
	}
	return out
}

// Activate chooses the cell.
func (gc *gridCell) Activate(c *Ctx) {
	gc.g.Selected = gc.cell.ID
	c.Invalidate(gc.g.R)
	if gc.g.OnSelect != nil {
		gc.g.OnSelect(gc.cell)
	}
}

// Spoken returns the caption, the value (or the prompt), and "button".
func (ch *Choice) Spoken(c *Ctx) []Msg {
	v := ch.text()
	if !ch.Value.IsZero() && !ch.Say.IsZero() {
		v = ch.Say
	}
	out := []Msg{ch.Caption, v, say("display.say.button")}
	if ch.Disabled {
		out = append(out, say("display.say.unavailable"))
	}
	return out
}

// Activate taps the choice, if it is enabled.
func (ch *Choice) Activate(c *Ctx) {
	if !ch.Disabled && ch.OnTap != nil {
		ch.OnTap()
	}
}
