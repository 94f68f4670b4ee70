package display_test

import (
	"context"
	"image"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/headless"
)

// counter is an Animator that counts its turns, standing for "the UI
// loop woke up".
type counter struct {
	*display.Label
	n atomic.Int64
}

func (c *counter) Animate(*display.Ctx) { c.n.Add(1) }

// countingScreen counts the frames presented.
type countingScreen struct {
	*headless.Screen
	presents atomic.Int64
}

func (s *countingScreen) Present(f *image.RGBA, d []image.Rectangle) error {
	s.presents.Add(1)
	return s.Screen.Present(f, d)
}

// TestRunSleeps runs the UI loop for real: on a page where nothing
// animates it does not wake up by itself (it used to, 20 times a second);
// input and Do wake it once each; a spinner keeps it drawing until the
// spinner goes.
func TestRunSleeps(t *testing.T) {
	ui, err := display.New(display.Options{Font: displaytest.Font(t), Catalog: display.NewCatalog(), Size: image.Pt(320, 240)})
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{Label: display.NewLabel("c", display.Lit("idle"))}
	ui.SetPage(&display.Page{ID: "still", Body: []display.Widget{c}})
	scr := &countingScreen{Screen: headless.New(image.Pt(320, 240))}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ui.Run(ctx, scr) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	sync := func() { // returns once the loop has handled everything before
		ok := make(chan struct{})
		ui.Do(func() { close(ok) })
		<-ok
	}
	sync()
	start := c.n.Load()
	time.Sleep(500 * time.Millisecond)
	if n := c.n.Load() - start; n > 0 {
		t.Errorf("the loop woke %d times in 500 ms on a still page, want 0", n)
	}

	scr.Inject(display.Event{Kind: display.PointerDown, X: 1, Y: 1})
	scr.Inject(display.Event{Kind: display.PointerUp, X: 1, Y: 1})
	sync()
	// Two events and the Do: three turns, or fewer when the loop takes
	// both events in one turn (they may both be queued when it wakes).
	if n := c.n.Load() - start; n < 1 || n > 3 {
		t.Errorf("the loop ran %d times for two events and a Do, want 1 to 3", n)
	}

	// A spinner animates: frames keep coming while it is shown.
	ui.Do(func() {
		ui.SetPage(&display.Page{ID: "busy", Body: []display.Widget{c, display.NewSpinner("s")}})
	})
	sync()
	before := scr.presents.Load()
	time.Sleep(500 * time.Millisecond)
	if n := scr.presents.Load() - before; n < 3 {
		t.Errorf("%d frames in 500 ms with a spinner, want it turning (about 10)", n)
	}
	ui.Do(func() { ui.SetPage(&display.Page{ID: "still", Body: []display.Widget{c}}) })
	sync()
	time.Sleep(100 * time.Millisecond) // a last spinner frame may be due
	start = c.n.Load()
	time.Sleep(500 * time.Millisecond)
	if n := c.n.Load() - start; n > 0 {
		t.Errorf("the loop woke %d times in 500 ms after the spinner went, want 0", n)
	}
}

// TestNextWake checks when animators ask to run next, on a fixed clock:
// a dialog's countdown at its next whole second, a spinner at its next
// frame, nothing on a still page.
func TestNextWake(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	h.UI.Catalog().Add("en", "test.left", "{s} s left")
	h.UI.SetPage(&display.Page{ID: "p", Body: []display.Widget{display.NewLabel("l", display.Lit("still"))}})
	h.Step()
	if got := h.UI.Next(); !got.IsZero() {
		t.Errorf("Next on a still page = %v, want none", got)
	}
	d := display.NewDialog("idle", display.Lit("Still there?"), display.Lit("Touch to go on."),
		display.NewButton("ok", display.Lit("Continue"), display.Primary, h.UI.CloseDialog))
	d.CountdownKey = "test.left"
	d.Deadline = h.Clock.T.Add(2500 * time.Millisecond) // shows 3, then 2 at +0.5 s
	h.UI.ShowDialog(d)
	h.Step()
	if got, want := h.UI.Next(), h.Clock.T.Add(500*time.Millisecond); !got.Equal(want) {
		t.Errorf("Next with a countdown = %v, want %v (its next second)", got, want)
	}
	h.Clock.T = h.Clock.T.Add(2500 * time.Millisecond)
	h.Step()
	if got := h.UI.Next(); !got.IsZero() {
		t.Errorf("Next after the countdown expired = %v, want none", got)
	}
	h.UI.CloseDialog()
	h.UI.SetPage(&display.Page{ID: "busy", Body: []display.Widget{display.NewSpinner("s")}})
	h.Step()
	if got, want := h.UI.Next(), h.Clock.T.Add(display.SpinnerFrame); !got.Equal(want) {
		t.Errorf("Next with a spinner = %v, want %v", got, want)
	}
}
