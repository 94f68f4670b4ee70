package display

import "image"

// Navigation by the tactile keys (issue 20, EZ Access): up and down move a
// focus through the screen's widgets in reading order (header, body, then
// the footer or the on-screen keyboard; only the dialog while one is up),
// select acts on the focused widget as a tap would, back closes the
// keyboard or presses the page's "back" button. A ring shows the focus for
// people with some sight. What each key's effect says goes to the OnNav
// listeners, which speak it in audio mode.

// NavEvent is a tactile key the UI handled, and what its effect says.
type NavEvent struct {
	Key  Key
	Hold bool
	// Say is what to say: the widget the focus moved to, or what select
	// changed. It is nil when the key showed another screen (whoever
	// shows it announces it) or does nothing here (help, volume).
	Say []Msg
}

// IDBack is the widget id the back key presses when no keyboard is open.
const IDBack = "back"

// OnNav registers f to be called after every tactile key.
func (u *UI) OnNav(f func(NavEvent)) { u.onNav = append(u.onNav, f) }

// NavFocus returns the widget the tactile focus is on, or nil.
func (u *UI) NavFocus() Widget { return u.nav }

// navItems lists the widgets the focus can reach, in reading order.
func (u *UI) navItems() []Widget {
	if u.needLayout {
		u.layout()
	}
	var out []Widget
	var walk func(w Widget)
	walk = func(w Widget) {
		if s, ok := w.(Spoken); ok && len(s.Spoken(&u.ctx)) > 0 {
			out = append(out, w)
		}
		for _, ch := range w.Children() {
			walk(ch)
		}
	}
	if u.dialog != nil {
		walk(u.dialog)
		return out
	}
	for _, r := range u.roots() {
		walk(r)
	}
	return out
}

func indexOf(ws []Widget, w Widget) int {
	for i, x := range ws {
		if x == w {
			return i
		}
	}
	return -1
}

// setNav moves the focus ring to w and scrolls it into view.
func (u *UI) setNav(w Widget) {
	c := &u.ctx
	if u.nav != nil {
		u.invalidate(u.nav.Bounds().Inset(-c.Dp(6)))
	}
	u.nav = w
	if w != nil {
		u.Reveal(w)
		u.invalidate(w.Bounds().Inset(-c.Dp(6)))
	}
}

// spoken returns what w says.
func (u *UI) spoken(w Widget) []Msg {
	if s, ok := w.(Spoken); ok {
		return s.Spoken(&u.ctx)
	}
	return nil
}

// NavFirst puts the focus on the first widget after the header (the
// dialog, if one is up) and returns what a new screen says: its header
// and that widget.
func (u *UI) NavFirst() []Msg {
	items := u.navItems()
	var out []Msg
	i := 0
	if u.dialog == nil && len(items) > 0 && u.page.Header != nil && items[0] == Widget(u.page.Header) {
		out = append(out, u.spoken(items[0])...)
		i = 1
	}
	if i < len(items) {
		u.setNav(items[i])
		out = append(out, u.spoken(items[i])...)
	} else {
		u.setNav(nil)
	}
	return out
}

// tactile handles a key of the tactile keypad.
func (u *UI) tactile(ev Event) {
	var said []Msg
	switch ev.Key {
	case KeyDown:
		said = u.step(1)
	case KeyUp:
		said = u.step(-1)
	case KeySelect:
		said = u.activate()
	case KeyBack:
		said = u.back()
	}
	for _, f := range u.onNav {
		f(NavEvent{Key: ev.Key, Hold: ev.Hold, Say: said})
	}
}

// step moves the focus by dir (through a text's paragraphs first),
// wrapping at either end of the screen.
func (u *UI) step(dir int) []Msg {
	c := &u.ctx
	if st, ok := u.nav.(*ScrollText); ok && st.step(c, dir) {
		return u.spoken(st)
	}
	items := u.navItems()
	if len(items) == 0 {
		return nil
	}
	var out []Msg
	j := indexOf(items, u.nav) + dir
	if u.nav == nil && dir < 0 {
		j = len(items) - 1
	}
	switch {
	case j >= len(items):
		j = 0
		out = append(out, M("display.say.top"))
	case j < 0:
		j = len(items) - 1
	}
	if st, ok := items[j].(*ScrollText); ok {
		st.para = 0
		if dir < 0 {
			st.para = len(st.paragraphs()) - 1
		}
	}
	u.setNav(items[j])
	return append(out, u.spoken(items[j])...)
}

// activate acts on the focused widget as a tap would and says what
// changed.
func (u *UI) activate() []Msg {
	c := &u.ctx
	if u.nav == nil {
		return u.step(1)
	}
	a, ok := u.nav.(Activator)
	if !ok {
		return u.spoken(u.nav) // nothing to do: say it again
	}
	page, focus := u.page, u.focus
	n := 0
	if focus != nil {
		n = focus.Len()
	}
	before := indexOf(u.navItems(), u.nav)
	name := u.nav.ID()
	a.Activate(c)
	switch {
	case u.page != page:
		return nil // a new screen: its owner announces it
	case u.focus != nil && u.focus != focus:
		// A field took the keyboard: the focus goes to its first key.
		u.nav = u.focus
		items := u.navItems()
		out := append(u.spoken(u.focus), M("display.say.keyboard"))
		if i := indexOf(items, Widget(u.focus)); i >= 0 && i+1 < len(items) {
			out = append(out, u.moveTo(items, u.firstKey(items))...)
		}
		return out
	case focus != nil && u.focus == nil:
		// Enter closed the keyboard.
		u.setNav(focus)
		return append([]Msg{M("display.say.keyboard_closed")}, u.spoken(focus)...)
	}
	items := u.navItems()
	if indexOf(items, u.nav) < 0 {
		// The keyboard changed layer (shift, symbols): its keys are new.
		j := min(max(before, 0), len(items)-1)
		for i, w := range items {
			if w.ID() == name {
				j = i
			}
		}
		if j >= 0 {
			u.setNav(items[j])
		}
	}
	if f := u.focus; f != nil && f.Masked && f.Len() != n {
		return []Msg{M("display.say.masked", "n", f.Len())}
	}
	return u.spoken(u.nav)
}

// firstKey is the index of the keyboard's first key in items.
func (u *UI) firstKey(items []Widget) int {
	for i, w := range items {
		if _, ok := w.(*keyCap); ok {
			return i
		}
	}
	return len(items) - 1
}

func (u *UI) moveTo(items []Widget, i int) []Msg {
	u.setNav(items[i])
	return u.spoken(items[i])
}

// back closes the keyboard, or presses the page's back button.
func (u *UI) back() []Msg {
	if f := u.focus; f != nil {
		u.setFocus(nil)
		u.setNav(f)
		return append([]Msg{M("display.say.keyboard_closed")}, u.spoken(f)...)
	}
	if u.dialog != nil {
		return nil
	}
	if b, ok := u.Find(IDBack).(Activator); ok {
		page := u.page
		b.Activate(&u.ctx)
		if u.page == page {
			return u.spoken(u.nav)
		}
	}
	return nil
}

// Errors returns what the page's fields' error lines say, each after its
// field's label, in reading order: announced when select did not move on.
func (u *UI) Errors() []Msg {
	var out []Msg
	for _, w := range u.navItems() {
		if f, ok := w.(*Field); ok && !f.Error.IsZero() {
			out = append(out, f.Label, M("display.say.error"), f.Error)
		}
	}
	return out
}

// drawNav draws the focus ring.
func (u *UI) drawNav(dst *image.RGBA) {
	if u.nav == nil {
		return
	}
	c := &u.ctx
	r := u.nav.Bounds().Inset(-c.Dp(3))
	if r.Empty() || !r.Overlaps(dst.Rect) {
		return
	}
	c.P.Outline(dst, r, c.Dp(8), max(3, c.Dp(4)), u.theme.Error)
}
