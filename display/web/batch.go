package web

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"
	"sync/atomic"
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

// bandPixels bounds one PNG: a larger tile is cut into horizontal bands,
// which the server encodes in parallel and the browser decodes in
// parallel (a new screen reaches the page sooner; BenchmarkChromiumTap).
const bandPixels = 128 << 10

// batchEncoder encodes batches for one viewer, one batch at a time.
type batchEncoder struct {
	encs []pngEncoder   // one per worker
	pngs []bytes.Buffer // one per band
}

// encode encodes tiles (copies of parts of the frame) as batch number seq.
func (e *batchEncoder) encode(seq uint32, tiles []*image.RGBA) ([]byte, error) {
	var bands []*image.RGBA
	for _, t := range tiles {
		bands = append(bands, cut(t)...)
	}
	if len(bands) > 0xffff {
		return nil, fmt.Errorf("web: %d tiles in one batch", len(bands))
	}
	workers := min(len(bands), runtime.GOMAXPROCS(0), 4)
	for len(e.encs) < workers {
		e.encs = append(e.encs, pngEncoder{})
	}
	for len(e.pngs) < len(bands) {
		e.pngs = append(e.pngs, bytes.Buffer{})
	}
	errs := make([]error, workers)
	var next atomic.Int32
	work := func(w int) {
		for {
			i := int(next.Add(1)) - 1
			if i >= len(bands) {
				return
			}
			e.pngs[i].Reset()
			if err := e.encs[w].encode(&e.pngs[i], bands[i]); err != nil {
				errs[w] = fmt.Errorf("web: encode tile %v: %w", bands[i].Rect, err)
				return
			}
		}
	}
	if workers <= 1 {
		work(0)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() { work(w) })
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	size := batchHeader
	for i := range bands {
		size += tileHeader + e.pngs[i].Len()
	}
	b := make([]byte, batchHeader, size)
	copy(b, batchMagic[:])
	binary.LittleEndian.PutUint32(b[4:], seq)
	binary.LittleEndian.PutUint16(b[8:], uint16(len(bands)))
	for i, t := range bands {
		b = binary.LittleEndian.AppendUint16(b, uint16(t.Rect.Min.X))
		b = binary.LittleEndian.AppendUint16(b, uint16(t.Rect.Min.Y))
		b = binary.LittleEndian.AppendUint32(b, uint32(e.pngs[i].Len()))
		b = append(b, e.pngs[i].Bytes()...)
	}
	return b, nil
}

// cut cuts t into bands of at most bandPixels (sub-images, not copies).
func cut(t *image.RGBA) []*image.RGBA {
	rows := max(1, bandPixels/max(1, t.Rect.Dx()))
	if t.Rect.Dy() <= rows {
		return []*image.RGBA{t}
	}
	var out []*image.RGBA
	for y := t.Rect.Min.Y; y < t.Rect.Max.Y; y += rows {
		out = append(out, t.SubImage(image.Rect(t.Rect.Min.X, y, t.Rect.Max.X, min(y+rows, t.Rect.Max.Y))).(*image.RGBA))
	}
	return out
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
