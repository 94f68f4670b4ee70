package display

import (
	"context"
	"fmt"
	"image"
	"time"
)

// Scroller is a widget that scrolls when a pointer drags across it.
type Scroller interface {
	Widget
	// ScrollBy moves the content up by dy pixels (down for negative dy).
	ScrollBy(c *Ctx, dy int)
}

// Animator is a widget that changes with time (spinner, countdown).
// Animate runs after every input, every Do, and when the time it last
// asked for with Ctx.WakeAt comes; an Animator that asks for none is not
// run again until something else happens.
type Animator interface {
	Animate(c *Ctx)
}

type pointerState struct {
	down      bool
	id        int
	target    Widget
	scroller  Scroller
	start     image.Point
	last      image.Point
	scrolling bool
}

// hit returns the path from w to the deepest widget under p.
func hit(w Widget, p image.Point) []Widget {
	if w == nil || !p.In(w.Bounds()) {
		return nil
	}
	if sv, ok := w.(*ScrollView); ok && !p.In(sv.Bounds()) {
		return nil
	}
	ch := w.Children()
	for i := len(ch) - 1; i >= 0; i-- {
		if path := hit(ch[i], p); path != nil {
			return append([]Widget{w}, path...)
		}
	}
	return []Widget{w}
}

func (u *UI) hitPath(p image.Point) []Widget {
	if u.dialog != nil {
		return hit(u.dialog, p) // modal: nothing else is reachable
	}
	rs := u.roots()
	for i := len(rs) - 1; i >= 0; i-- {
		if path := hit(rs[i], p); path != nil {
			return path
		}
	}
	return nil
}

// Handle routes one input event: pointer events to the widget under the
// pointer (a drag past a few dp turns into a scroll of the nearest
// scrolling widget), key events to the focused field.
func (u *UI) Handle(ev Event) {
	if u.needLayout {
		u.layout()
	}
	c := &u.ctx
	switch ev.Kind {
	case KeyPress:
		if ev.Key.Tactile() {
			u.tactile(ev)
			return
		}
		u.key(ev)
	case PointerDown:
		if u.ptr.down {
			return // a second finger: one touch at a time
		}
		path := u.hitPath(ev.Pos())
		u.ptr = pointerState{down: true, id: ev.Pointer, start: ev.Pos(), last: ev.Pos()}
		for i := len(path) - 1; i >= 0; i-- {
			if s, ok := path[i].(Scroller); ok && u.ptr.scroller == nil {
				u.ptr.scroller = s
			}
		}
		for i := len(path) - 1; i >= 0; i-- {
			if path[i].Handle(c, ev) {
				u.ptr.target = path[i]
				break
			}
		}
	case PointerMove:
		u.move(ev)
	case PointerUp, PointerCancel:
		if !u.ptr.down || ev.Pointer != u.ptr.id {
			return
		}
		if t := u.ptr.target; t != nil && !u.ptr.scrolling {
			t.Handle(c, ev)
		}
		u.ptr = pointerState{}
	}
}

func (u *UI) move(ev Event) {
	c := &u.ctx
	if !u.ptr.down || ev.Pointer != u.ptr.id {
		return
	}
	p := ev.Pos()
	if !u.ptr.scrolling && u.ptr.scroller != nil && abs(p.Y-u.ptr.start.Y) > c.Dp(12) {
		u.ptr.scrolling = true
		if t := u.ptr.target; t != nil {
			t.Handle(c, Event{Kind: PointerCancel, X: p.X, Y: p.Y, Pointer: ev.Pointer})
		}
	}
	if u.ptr.scrolling {
		u.ptr.scroller.ScrollBy(c, u.ptr.last.Y-p.Y)
	} else if t := u.ptr.target; t != nil {
		t.Handle(c, ev)
	}
	u.ptr.last = p
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func (u *UI) key(ev Event) {
	c := &u.ctx
	if u.dialog != nil {
		return
	}
	f := u.focus
	if f == nil {
		return
	}
	if ev.Key == KeyEnter || ev.Key == KeyTab {
		if f.OnEnter != nil {
			f.OnEnter()
		} else {
			u.setFocus(nil)
		}
		return
	}
	f.Handle(c, ev)
	u.body.Reveal(c, f.Bounds())
}

// Tick advances animations and countdowns to the clock's now, and
// notes when they next want to run (Next).
func (u *UI) Tick() {
	u.wake = time.Time{}
	var walk func(w Widget)
	walk = func(w Widget) {
		if a, ok := w.(Animator); ok {
			a.Animate(&u.ctx)
		}
		for _, ch := range w.Children() {
			walk(ch)
		}
	}
	for _, w := range u.roots() {
		walk(w)
	}
	if u.dialog != nil {
		walk(u.dialog)
	}
}

// Next returns when an animator asked to run next, or the zero time when
// none did (nothing on screen changes by itself).
func (u *UI) Next() time.Time { return u.wake }

// Do runs f on the goroutine running Run, so other goroutines (the wizard)
// can change the UI safely. It does not wait for f.
func (u *UI) Do(f func()) { u.doq <- f }

// Run shows the UI on s until ctx ends or s closes its event channel:
// input and functions from Do are handled as they arrive, animations run
// when they asked to (Ctx.WakeAt), and only changed parts are presented.
// Between those it sleeps: a screen where nothing animates costs nothing.
func (u *UI) Run(ctx context.Context, s Screen) error {
	if s.Size() != u.Size() {
		u.Resize(s.Size())
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	events := s.Events()
	for tick := true; ; {
		if tick {
			u.Tick()
		}
		if frame, dirty := u.Render(); len(dirty) > 0 {
			if err := s.Present(frame, dirty); err != nil {
				return fmt.Errorf("display: present: %w", err)
			}
		}
		var wake <-chan time.Time
		if !u.wake.IsZero() {
			timer.Reset(max(u.wake.Sub(u.now()), 0))
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-events:
			if !ok {
				return nil
			}
			u.Handle(ev)
		case f := <-u.doq:
			f()
		case <-wake:
		}
		timer.Stop()
		tick = true
	}
}
