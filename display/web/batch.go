package web

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
)

// A frame batch is one binary WebSocket message: the parts of the frame
// that changed since the page's last batch, to be drawn together.
//
//	"KF" 0x01 0x00                  magic and version
//	u32 batch number                counted from 1; the page answers {"t":"drawn","n":…}
//	u16 tiles
//	tiles × { u16 x, u16 y, u32 length, PNG of length bytes }
//
// Integers are little-endian; a tile's size is its PNG's.
const (
	batchHeader = 10
	tileHeader  = 8
)

var batchMagic = [4]byte{'K', 'F', 1, 0}

// encodeBatch encodes tiles (sub-images of the frame) as batch number seq.
func encodeBatch(seq uint32, tiles []*image.RGBA, enc *pngEncoder) ([]byte, error) {
	var b bytes.Buffer
	b.Write(batchMagic[:])
	binary.Write(&b, binary.LittleEndian, seq)
	binary.Write(&b, binary.LittleEndian, uint16(len(tiles)))
	for _, t := range tiles {
		at := b.Len()
		var h [tileHeader]byte
		binary.LittleEndian.PutUint16(h[0:], uint16(t.Rect.Min.X))
		binary.LittleEndian.PutUint16(h[2:], uint16(t.Rect.Min.Y))
		b.Write(h[:])
		if err := enc.encode(&b, t); err != nil {
			return nil, fmt.Errorf("web: encode tile %v: %w", t.Rect, err)
		}
		binary.LittleEndian.PutUint32(b.Bytes()[at+4:], uint32(b.Len()-at-tileHeader))
	}
	return b.Bytes(), nil
}

// coalesce clips rs to full and drops what another rectangle covers; many
// rectangles, or most of the frame, become their bounding box (or the
// whole frame), since one PNG of a region costs less than many small ones
// by then. It reuses rs's array.
func coalesce(rs []image.Rectangle, full image.Rectangle) []image.Rectangle {
	out := rs[:0]
next:
	for _, r := range rs {
		r = r.Intersect(full)
		if r.Empty() {
			continue
		}
		for i := 0; i < len(out); i++ {
			switch {
			case r.In(out[i]):
				continue next
			case out[i].In(r):
				out = append(out[:i], out[i+1:]...)
				i--
			}
		}
		out = append(out, r)
	}
	area, bound := 0, image.Rectangle{}
	for _, r := range out {
		area += r.Dx() * r.Dy()
		bound = bound.Union(r)
	}
	fullArea := full.Dx() * full.Dy()
	if len(out) > maxTiles || area*4 >= fullArea*3 {
		if bound.Dx()*bound.Dy()*4 >= fullArea*3 {
			bound = full
		}
		out = append(out[:0], bound)
	}
	return out
}
