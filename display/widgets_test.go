package display_test

import (
	"image"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
)

func TestScrollTextReportsEnd(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	long := ""
	for range 40 {
		long += "Line of the rules of the service.\n"
	}
	h.UI.Catalog().Add("en", "test.terms", long)
	st := display.NewScrollText("terms", display.M("test.terms"), 200)
	ends := 0
	st.OnEnd = func() { ends++ }
	h.UI.SetPage(&display.Page{ID: "t", Body: []display.Widget{st}})
	h.Step()
	if st.Reached() || ends != 0 {
		t.Fatal("reached the end before scrolling")
	}
	b := st.Bounds()
	for i := 0; i < 30 && !st.Reached(); i++ {
		h.Drag(b.Min.X+50, b.Max.Y-20, -(b.Dy() - 40))
	}
	if !st.Reached() || ends != 1 {
		t.Fatalf("after scrolling to the end: reached %v, OnEnd ran %d times", st.Reached(), ends)
	}
	h.Drag(b.Min.X+50, b.Min.Y+20, b.Dy()-40)
	h.Drag(b.Min.X+50, b.Max.Y-20, -(b.Dy() - 40))
	if ends != 1 {
		t.Errorf("OnEnd ran %d times, want once", ends)
	}
}

func TestListPickerSelectAndIndex(t *testing.T) {
	h := displaytest.New(t, image.Pt(1280, 800), nil, display.DefaultTheme(), "en")
	var items []display.Item
	for _, id := range []string{"a1", "a2", "a3", "a4", "a5", "a6"} {
		items = append(items, display.Item{ID: id, Text: display.Lit("Place " + id)})
	}
	lp := display.NewListPicker("list", 240,
		display.Section{Title: display.Lit("A"), Items: items},
		display.Section{Title: display.Lit("B"), Items: []display.Item{{ID: "b1", Text: display.Lit("Place b1")}}})
	var got []string
	lp.OnSelect = func(it display.Item) { got = append(got, it.ID) }
	h.UI.SetPage(&display.Page{ID: "l", Body: []display.Widget{lp}})
	h.Step()
	h.Tap("list.index.1")
	b1 := h.Find("list.b1").Bounds()
	if !b1.Overlaps(lp.Bounds()) {
		t.Errorf("after tapping index B, row b1 %v is outside the list %v", b1, lp.Bounds())
	}
	h.Tap("list.b1")
	h.Tap("list.a2")
	if want := []string{"b1", "a2"}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("selected %v, want %v", got, want)
	}
	if lp.Selected != "a2" {
		t.Errorf("Selected = %q, want a2", lp.Selected)
	}
}

func TestDialogCountdownAndModal(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	h.UI.Catalog().Add("en", "test.left", "{s} s left")
	taps := 0
	h.UI.SetPage(&display.Page{ID: "p", Footer: []display.Widget{
		display.NewButton("under", display.Lit("Under"), display.Primary, func() { taps++ })}})
	h.Step()
	under := h.Find("under").Bounds()
	expired := 0
	d := display.NewDialog("idle", display.Lit("Still there?"), display.Lit("Touch to go on."),
		display.NewButton("ok", display.Lit("Continue"), display.Primary, h.UI.CloseDialog))
	d.CountdownKey = "test.left"
	d.Deadline = h.Clock.T.Add(3 * time.Second)
	d.OnExpire = func() { expired++ }
	h.UI.ShowDialog(d)
	h.Step()
	textOf := func() string {
		for _, r := range h.UI.Audit() {
			if r.Widget == "idle.countdown" {
				return r.Text
			}
		}
		return ""
	}
	if got := textOf(); got != "3 s left" {
		t.Errorf("countdown %q, want 3 s left", got)
	}
	// A tap on the page under the dialog does nothing.
	c := image.Pt(under.Min.X+2, under.Min.Y+2)
	h.Screen.Inject(display.Event{Kind: display.PointerDown, X: c.X, Y: c.Y})
	h.Screen.Inject(display.Event{Kind: display.PointerUp, X: c.X, Y: c.Y})
	h.Step()
	if taps != 0 {
		t.Error("a tap reached the page under a modal dialog")
	}
	h.Clock.T = h.Clock.T.Add(1500 * time.Millisecond)
	h.Step()
	if got := textOf(); got != "2 s left" {
		t.Errorf("countdown %q, want 2 s left", got)
	}
	h.Clock.T = h.Clock.T.Add(2 * time.Second)
	h.Step()
	h.Step()
	if expired != 1 {
		t.Errorf("OnExpire ran %d times, want 1", expired)
	}
	h.Tap("ok")
	if h.UI.Dialog() != nil {
		t.Error("Continue did not close the dialog")
	}
}
