package display_test

import (
	"image"
	"testing"

	"github.com/nhikiosk/nhikiosk/display"
)

// TestRotation: each rotation maps the frame onto the whole panel, one
// pixel each, with the frame's corners where a panel turned that way
// shows them, and FromPanel undoes ToPanel.
func TestRotation(t *testing.T) {
	panel := image.Pt(5, 3) // small, not square: a swap shows
	for _, tt := range []struct {
		rot      display.Rotation
		size     image.Point
		topLeft  image.Point // where the frame's top-left pixel lands on the panel
		topRight image.Point
	}{
		{display.Rotate0, image.Pt(5, 3), image.Pt(0, 0), image.Pt(4, 0)},
		{display.Rotate90, image.Pt(3, 5), image.Pt(4, 0), image.Pt(4, 2)},
		{display.Rotate180, image.Pt(5, 3), image.Pt(4, 2), image.Pt(0, 2)},
		{display.Rotate270, image.Pt(3, 5), image.Pt(0, 2), image.Pt(0, 0)},
	} {
		t.Run(tt.rot.String(), func(t *testing.T) {
			if !tt.rot.Valid() {
				t.Fatalf("%v not valid", tt.rot)
			}
			size := tt.rot.Size(panel)
			if size != tt.size {
				t.Fatalf("Size(%v) = %v, want %v", panel, size, tt.size)
			}
			if got := tt.rot.ToPanel(image.Pt(0, 0), panel); got != tt.topLeft {
				t.Errorf("ToPanel(top left) = %v, want %v", got, tt.topLeft)
			}
			if got := tt.rot.ToPanel(image.Pt(size.X-1, 0), panel); got != tt.topRight {
				t.Errorf("ToPanel(top right) = %v, want %v", got, tt.topRight)
			}
			seen := map[image.Point]bool{}
			for y := range size.Y {
				for x := range size.X {
					p := image.Pt(x, y)
					q := tt.rot.ToPanel(p, panel)
					if !q.In(image.Rectangle{Max: panel}) || seen[q] {
						t.Fatalf("ToPanel(%v) = %v: outside the panel or twice", p, q)
					}
					seen[q] = true
					if back := tt.rot.FromPanel(q, panel); back != p {
						t.Errorf("FromPanel(ToPanel(%v)) = %v", p, back)
					}
				}
			}
		})
	}
	for _, bad := range []display.Rotation{-90, 45, 360} {
		if bad.Valid() {
			t.Errorf("%v valid", bad)
		}
	}
}
