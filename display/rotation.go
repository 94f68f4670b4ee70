package display

import (
	"fmt"
	"image"
)

// Rotation is how far, in degrees clockwise, the frame is turned on a
// panel mounted rotated: Touch Display 2 is a 720×1280 portrait panel,
// often mounted in landscape, so with Rotation 90 the wizard draws a
// 1280×720 frame and the framebuffer backend turns it onto the panel.
// The framebuffer output and the touch calibration both use these
// mappings, so a touch lands on the pixel drawn under the finger.
// 0 leaves the frame as it is.
type Rotation int

// Rotations a panel may be mounted at.
const (
	Rotate0   Rotation = 0
	Rotate90  Rotation = 90
	Rotate180 Rotation = 180
	Rotate270 Rotation = 270
)

// Valid reports whether r is one of 0, 90, 180, 270.
func (r Rotation) Valid() bool {
	return r == Rotate0 || r == Rotate90 || r == Rotate180 || r == Rotate270
}

// String is "90°" and so on.
func (r Rotation) String() string { return fmt.Sprintf("%d°", int(r)) }

// Size is the frame's size for a panel of size panel: turned a quarter,
// width and height swap.
func (r Rotation) Size(panel image.Point) image.Point {
	if r == Rotate90 || r == Rotate270 {
		return image.Pt(panel.Y, panel.X)
	}
	return panel
}

// ToPanel maps the frame's pixel p onto the pixel of a panel of size
// panel that shows it.
func (r Rotation) ToPanel(p, panel image.Point) image.Point {
	switch r {
	case Rotate90: // the frame's top edge on the panel's right
		return image.Pt(panel.X-1-p.Y, p.X)
	case Rotate180:
		return image.Pt(panel.X-1-p.X, panel.Y-1-p.Y)
	case Rotate270: // the frame's top edge on the panel's left
		return image.Pt(p.Y, panel.Y-1-p.X)
	}
	return p
}

// FromPanel maps the pixel q of a panel of size panel (where a touch
// landed) back onto the frame's pixel shown there: ToPanel's inverse.
func (r Rotation) FromPanel(q, panel image.Point) image.Point {
	switch r {
	case Rotate90:
		return image.Pt(q.Y, panel.X-1-q.X)
	case Rotate180:
		return image.Pt(panel.X-1-q.X, panel.Y-1-q.Y)
	case Rotate270:
		return image.Pt(panel.Y-1-q.Y, q.X)
	}
	return q
}
