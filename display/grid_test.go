package display_test

import (
	"fmt"
	"image"
	"testing"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
)

// gridPage is a page with a header, a footer, a label and a grid of n
// cells filling the rest of the body (FillHeight).
func gridPage(h *displaytest.Harness, n int, note bool) (*display.Page, *display.Grid, int) {
	p := &display.Page{ID: "t", Header: display.NewHeader("header", display.Lit("Grid"), 1, 2),
		Body: []display.Widget{display.NewLabel("intro", display.Lit("Choose one"))},
		Footer: []display.Widget{display.NewButton("back", display.Lit("Back"), display.Secondary, nil),
			display.NewButton("next", display.Lit("Next"), display.Primary, nil)}}
	height := h.UI.FillHeight(p)
	cells := make([]display.Cell, n)
	for i := range cells {
		cells[i] = display.Cell{ID: fmt.Sprint(i), Text: display.Lit(fmt.Sprintf("Cell %03d", i))}
		if note {
			cells[i].Note = display.Lit("a note")
		}
	}
	g := display.NewGrid("g", height, cells...)
	p.Body = append(p.Body, g)
	return p, g, h.UI.GridCapacity(height, cells)
}

// TestGridCapacity: as many cells as GridCapacity says show whole inside
// the body without scrolling it; one more does not fit.
func TestGridCapacity(t *testing.T) {
	for _, size := range []image.Point{{800, 480}, {720, 1280}, {1080, 1920}} {
		for _, note := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%d-note-%v", size.X, size.Y, note), func(t *testing.T) {
				h := displaytest.New(t, size, nil, display.DefaultTheme(), "en")
				_, _, fits := gridPage(h, 500, note)
				if fits < 4 {
					t.Fatalf("GridCapacity = %d", fits)
				}
				for _, n := range []int{fits, fits + 1} {
					p, g, _ := gridPage(h, n, note)
					h.UI.SetPage(p)
					h.Step()
					body := h.Find("body").Bounds()
					if !g.Bounds().In(body) {
						t.Fatalf("%d cells: grid %v outside the body %v", n, g.Bounds(), body)
					}
					inside := 0
					for _, c := range g.Children() {
						if c.Bounds().In(g.Bounds()) {
							inside++
						}
					}
					if want := min(n, fits); inside != want {
						t.Errorf("%d cells: %d in view, want %d", n, inside, want)
					}
				}
			})
		}
	}
}

// TestGridSelect: a tap on a cell selects it and reports it.
func TestGridSelect(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	p, g, _ := gridPage(h, 5, false)
	var got display.Cell
	g.OnSelect = func(c display.Cell) { got = c }
	h.UI.SetPage(p)
	h.Step()
	h.Tap("g.3")
	if got.ID != "3" || g.Selected != "3" {
		t.Errorf("tapped g.3: OnSelect got %q, Selected %q", got.ID, g.Selected)
	}
	if cs := g.Cells(); len(cs) != 5 || cs[4].Text.Lit != "Cell 004" {
		t.Errorf("Cells() = %+v", cs)
	}
}

// TestChoice: a choice taps unless disabled, and shows its prompt until
// it has a value.
func TestChoice(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	taps := 0
	a := display.NewChoice("a", display.Lit("County"), display.Lit("Taipei City"), display.Lit("Choose"), func() { taps++ })
	b := display.NewChoice("b", display.Lit("Township"), display.Msg{}, display.Lit("Choose"), func() { taps += 10 })
	b.Disabled = true
	h.UI.SetPage(&display.Page{ID: "t", Body: []display.Widget{display.NewRow("", a, b)}})
	h.Step()
	h.Tap("a")
	h.Tap("b")
	if taps != 1 {
		t.Errorf("taps = %d, want 1 (the disabled choice does nothing)", taps)
	}
	var texts []string
	for _, r := range h.UI.Audit() {
		texts = append(texts, r.Text)
	}
	want := []string{"County", "Taipei City", "Township", "Choose"}
	if fmt.Sprint(texts) != fmt.Sprint(want) {
		t.Errorf("drawn %q, want %q", texts, want)
	}
}
