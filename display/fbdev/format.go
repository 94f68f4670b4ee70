package fbdev

import (
	"encoding/binary"
	"fmt"
	"image"

	"github.com/nhikiosk/nhikiosk/display"
)

// Bitfield is where one colour channel sits in a pixel (struct
// fb_bitfield in linux/fb.h).
type Bitfield struct {
	Offset, Length uint32
}

// Format is a framebuffer pixel format: little-endian pixels of
// BitsPerPixel bits with the channels at their bitfields.
type Format struct {
	BitsPerPixel     int
	Red, Green, Blue Bitfield
}

// Common formats.
var (
	// RGB565 is 16-bit colour, as on the Raspberry Pi 7" display's
	// default framebuffer.
	RGB565 = Format{BitsPerPixel: 16, Red: Bitfield{11, 5}, Green: Bitfield{5, 6}, Blue: Bitfield{0, 5}}
	// XRGB8888 is 32-bit colour, bytes B, G, R, X in memory.
	XRGB8888 = Format{BitsPerPixel: 32, Red: Bitfield{16, 8}, Green: Bitfield{8, 8}, Blue: Bitfield{0, 8}}
)

// Geometry is a framebuffer's size and memory layout.
type Geometry struct {
	Width, Height int
	// Stride is the length of one line in bytes (fb_fix_screeninfo
	// line_length), which may exceed Width times the pixel size.
	Stride int
	Format Format
}

// Size returns the bytes of memory the visible screen needs.
func (g Geometry) Size() int { return g.Stride * g.Height }

func (g Geometry) check() error {
	bpp := g.Format.BitsPerPixel
	if g.Width <= 0 || g.Height <= 0 || (bpp != 16 && bpp != 24 && bpp != 32) || g.Stride < g.Width*bpp/8 {
		return fmt.Errorf("unsupported framebuffer geometry %dx%d, %d bpp, stride %d", g.Width, g.Height, bpp, g.Stride)
	}
	for _, f := range []Bitfield{g.Format.Red, g.Format.Green, g.Format.Blue} {
		if f.Length == 0 || f.Length > 8 || int(f.Offset+f.Length) > bpp {
			return fmt.Errorf("unsupported framebuffer colour bitfield %+v at %d bpp", f, bpp)
		}
	}
	return nil
}

// convert writes the pixels of src inside r into mem laid out as g.
func convert(mem []byte, g Geometry, src *image.RGBA, r image.Rectangle) {
	r = r.Intersect(src.Rect).Intersect(image.Rect(0, 0, g.Width, g.Height))
	f := g.Format
	switch {
	case f == XRGB8888:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			s := src.Pix[src.PixOffset(r.Min.X, y):]
			d := mem[y*g.Stride+r.Min.X*4:]
			for i := range r.Dx() {
				d[4*i], d[4*i+1], d[4*i+2], d[4*i+3] = s[4*i+2], s[4*i+1], s[4*i], 0xff
			}
		}
	case f == RGB565:
		for y := r.Min.Y; y < r.Max.Y; y++ {
			s := src.Pix[src.PixOffset(r.Min.X, y):]
			d := mem[y*g.Stride+r.Min.X*2:]
			for i := range r.Dx() {
				v := uint16(s[4*i]>>3)<<11 | uint16(s[4*i+1]>>2)<<5 | uint16(s[4*i+2]>>3)
				d[2*i], d[2*i+1] = byte(v), byte(v>>8)
			}
		}
	default:
		convertGeneric(mem, g, src, r)
	}
}

func convertGeneric(mem []byte, g Geometry, src *image.RGBA, r image.Rectangle) {
	f := g.Format
	bpp := f.BitsPerPixel / 8
	pack := func(v uint8, b Bitfield) uint32 { return uint32(v>>(8-b.Length)) << b.Offset }
	var buf [4]byte
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			s := src.Pix[src.PixOffset(x, y):]
			v := pack(s[0], f.Red) | pack(s[1], f.Green) | pack(s[2], f.Blue)
			binary.LittleEndian.PutUint32(buf[:], v)
			copy(mem[y*g.Stride+x*bpp:], buf[:bpp])
		}
	}
}

// convertRotated writes the pixels of src inside r into mem laid out as
// g, the frame turned by rot: each row of the frame becomes a column (or
// a row backwards) of the framebuffer, walked with a fixed step.
func convertRotated(mem []byte, g Geometry, src *image.RGBA, r image.Rectangle, rot display.Rotation) {
	panel := image.Pt(g.Width, g.Height)
	r = r.Intersect(src.Rect).Intersect(image.Rectangle{Max: rot.Size(panel)})
	if r.Empty() {
		return
	}
	f := g.Format
	bpp := f.BitsPerPixel / 8
	d := rot.ToPanel(image.Pt(1, 0), panel).Sub(rot.ToPanel(image.Point{}, panel))
	step := d.Y*g.Stride + d.X*bpp // one frame pixel to the right
	pack := func(v uint8, b Bitfield) uint32 { return uint32(v>>(8-b.Length)) << b.Offset }
	var buf [4]byte
	for y := r.Min.Y; y < r.Max.Y; y++ {
		s := src.Pix[src.PixOffset(r.Min.X, y):]
		q := rot.ToPanel(image.Pt(r.Min.X, y), panel)
		off := q.Y*g.Stride + q.X*bpp
		switch {
		case f == XRGB8888:
			for i := range r.Dx() {
				mem[off], mem[off+1], mem[off+2], mem[off+3] = s[4*i+2], s[4*i+1], s[4*i], 0xff
				off += step
			}
		case f == RGB565:
			for i := range r.Dx() {
				v := uint16(s[4*i]>>3)<<11 | uint16(s[4*i+1]>>2)<<5 | uint16(s[4*i+2]>>3)
				mem[off], mem[off+1] = byte(v), byte(v>>8)
				off += step
			}
		default:
			for i := range r.Dx() {
				v := pack(s[4*i], f.Red) | pack(s[4*i+1], f.Green) | pack(s[4*i+2], f.Blue)
				binary.LittleEndian.PutUint32(buf[:], v)
				copy(mem[off:off+bpp], buf[:bpp])
				off += step
			}
		}
	}
}

// decode reads back the pixel at (x, y) from mem as 8-bit R, G, B, for
// tests and screenshots.
func decode(mem []byte, g Geometry, x, y int) (r, gr, b uint8) {
	f := g.Format
	bpp := f.BitsPerPixel / 8
	var buf [4]byte
	copy(buf[:], mem[y*g.Stride+x*bpp:y*g.Stride+x*bpp+bpp])
	v := binary.LittleEndian.Uint32(buf[:])
	un := func(bf Bitfield) uint8 {
		c := (v >> bf.Offset) & (1<<bf.Length - 1)
		c <<= 8 - bf.Length // replicate the high bits into the low ones
		return uint8(c | c>>bf.Length)
	}
	return un(f.Red), un(f.Green), un(f.Blue)
}
