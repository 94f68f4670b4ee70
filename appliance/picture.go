package appliance

import (
	"image"
	"image/color"
	"image/draw"
	"sync"
)

var (
	insertOnce sync.Once
	insertImg  *image.RGBA
)

// insertCardPicture draws how the card goes in: the reader's slot at the
// top, the card below it chip up with its chip end towards the slot, and
// an arrow pointing in. It is drawn, not loaded, so no asset file is
// needed.
func insertCardPicture() image.Image {
	insertOnce.Do(func() { insertImg = drawInsertCard() })
	return insertImg
}

func drawInsertCard() *image.RGBA {
	const w, h = 300, 150
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill := func(r image.Rectangle, c color.RGBA) { draw.Draw(img, r, &image.Uniform{c}, image.Point{}, draw.Src) }
	bg := color.RGBA{0xf3, 0xf5, 0xf8, 0xff}
	fill(img.Rect, bg)
	// The reader: a dark box with its slot.
	fill(image.Rect(60, 4, 240, 30), color.RGBA{0x3a, 0x40, 0x48, 0xff})
	fill(image.Rect(80, 24, 220, 30), color.RGBA{0x10, 0x10, 0x10, 0xff})
	// The card, portrait, its chip end towards the slot.
	card := image.Rect(98, 52, 202, 146)
	fill(card, color.RGBA{0x2e, 0x8b, 0x57, 0xff})
	fill(card.Inset(4), color.RGBA{0x4c, 0xae, 0x78, 0xff})
	// The chip, gold, near the end that goes in.
	chip := image.Rect(134, 64, 166, 90)
	fill(chip, color.RGBA{0xd4, 0xa0, 0x17, 0xff})
	fill(image.Rect(134, 76, 166, 78), color.RGBA{0x9c, 0x74, 0x0c, 0xff})
	fill(image.Rect(149, 64, 151, 90), color.RGBA{0x9c, 0x74, 0x0c, 0xff})
	// Arrow from the card up into the slot.
	arrow := color.RGBA{0x0b, 0x57, 0xa4, 0xff}
	fill(image.Rect(146, 34, 154, 50), arrow)
	for i := range 10 {
		fill(image.Rect(150-i-1, 32+i, 150+i+1, 33+i), arrow)
	}
	return img
}
