package display_test

import (
	"image"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
)

// navigator presses tactile keys and keeps what each said.
type navigator struct {
	t    *testing.T
	ui   *display.UI
	said []display.Msg
}

func newNavigator(t *testing.T, ui *display.UI) *navigator {
	n := &navigator{t: t, ui: ui}
	ui.OnNav(func(ev display.NavEvent) { n.said = ev.Say })
	return n
}

func (n *navigator) press(k display.Key) []display.Msg {
	n.said = nil
	n.ui.Handle(display.Event{Kind: display.KeyPress, Key: k})
	return n.said
}

// text renders what was said as one English string, for comparison.
func (n *navigator) text(ms []display.Msg) []string {
	var out []string
	for _, m := range ms {
		if m.Key == "" {
			out = append(out, "lit:"+m.Lit)
			continue
		}
		out = append(out, n.ui.Catalog().Text("en", m.Key, m.Args...))
	}
	return out
}

func TestTactileNavigation(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	taps, backs := 0, 0
	pw := display.NewField("pw", display.M("display.key.space"), display.KindNumber)
	pw.Masked = true
	agree := display.NewCheckbox("agree", display.M("display.strength.strong"))
	off := display.NewButton("off", display.M("display.key.letters"), display.Secondary, func() { t.Error("a disabled button was activated") })
	off.Disabled = true
	h.UI.SetPage(&display.Page{
		ID:     "p",
		Header: display.NewHeader("header", display.M("display.key.enter"), 2, 5),
		Body:   []display.Widget{display.NewLabel("intro", display.M("display.strength.weak")), pw, agree, off},
		Footer: []display.Widget{
			display.NewButton("back", display.M("display.key.symbols"), display.Secondary, func() { backs++ }),
			display.NewButton("next", display.M("display.key.enter"), display.Primary, func() { taps++ }),
		},
	})
	n := newNavigator(t, h.UI)
	if diff := cmp.Diff([]string{"Done", "Step 2 of 5", "Weak"}, n.text(h.UI.NavFirst())); diff != "" {
		t.Errorf("NavFirst (-want +got):\n%s", diff)
	}
	steps := []struct {
		key  display.Key
		want []string
	}{
		{display.KeyDown, []string{"space", "edit field", "empty"}},
		{display.KeySelect, []string{"space", "edit field", "empty", "Keyboard open. Up and down move through the keys, select types, back closes the keyboard.", "lit:1"}},
		{display.KeySelect, []string{"1 characters typed"}},
		{display.KeyDown, []string{"lit:2"}},
		{display.KeySelect, []string{"2 characters typed"}},
		{display.KeyBack, []string{"Keyboard closed", "space", "edit field", "2 characters typed"}},
		{display.KeyDown, []string{"Strong", "not checked"}},
		{display.KeySelect, []string{"Strong", "checked"}},
		{display.KeyDown, []string{"ABC", "button", "unavailable"}},
		{display.KeySelect, []string{"ABC", "button", "unavailable"}},
		{display.KeyDown, []string{"?123", "button"}},
		{display.KeyDown, []string{"Done", "button"}},
		{display.KeySelect, []string{"Done", "button"}},
		{display.KeyDown, []string{"Top of the screen", "Done", "Step 2 of 5"}},
		{display.KeyUp, []string{"Done", "button"}},
		{display.KeyBack, []string{"Done", "button"}},
	}
	for i, s := range steps {
		if diff := cmp.Diff(s.want, n.text(n.press(s.key))); diff != "" {
			t.Errorf("step %d, key %d (-want +got):\n%s", i, s.key, diff)
		}
	}
	if taps != 1 || backs != 1 || !agree.Checked || string(pw.Value()) != "12" {
		t.Errorf("next tapped %d, back %d, agreed %t, typed %q; want 1, 1, true, 12", taps, backs, agree.Checked, pw.Value())
	}
	if h.UI.NavFocus() == nil || h.UI.NavFocus().ID() != "next" {
		t.Errorf("focus on %v, want next", h.UI.NavFocus())
	}
}

func TestTactileScrollTextReachesEnd(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	long := ""
	for range 60 {
		long += "The rules of the service, line after line. "
	}
	st := display.NewScrollText("terms", display.Lit(long), 120)
	ended := 0
	st.OnEnd = func() { ended++ }
	st.Speech = []display.Msg{display.M("display.strength.weak"), display.M("display.strength.medium"), display.M("display.strength.strong")}
	h.UI.SetPage(&display.Page{ID: "t", Body: []display.Widget{st}})
	n := newNavigator(t, h.UI)
	n.press(display.KeyDown)
	if diff := cmp.Diff([]string{"Weak", "paragraph 1 of 3"}, n.text(n.said)); diff != "" {
		t.Errorf("into the text (-want +got):\n%s", diff)
	}
	n.press(display.KeyDown)
	if ended != 0 {
		t.Fatal("the end was reported before the last paragraph")
	}
	if diff := cmp.Diff([]string{"Strong", "paragraph 3 of 3"}, n.text(n.press(display.KeyDown))); diff != "" {
		t.Errorf("last paragraph (-want +got):\n%s", diff)
	}
	if ended != 1 || !st.Reached() {
		t.Errorf("end reported %d times, Reached %t; want once, true", ended, st.Reached())
	}
}

// BenchmarkTactileKey is the display's share of the latency from a key
// press to speech: the focus moved over a form page with the keyboard
// open (about 50 widgets), the ring repainted, the spoken form made.
func BenchmarkTactileKey(b *testing.B) {
	h := displaytest.New(b, image.Pt(1280, 800), nil, display.DefaultTheme(), "en")
	taps := 0
	h.UI.SetPage(formPage(&taps))
	h.Tap("email")
	said := 0
	h.UI.OnNav(func(ev display.NavEvent) { said += len(ev.Say) })
	for b.Loop() {
		h.UI.Handle(display.Event{Kind: display.KeyPress, Key: display.KeyDown})
		h.UI.Render()
	}
	if said == 0 {
		b.Fatal("nothing said")
	}
}
