package display

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"io/fs"
	"os"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// ErrNoFont is wrapped by OpenFont when the font file does not exist.
var ErrNoFont = errors.New("font file missing")

// maxGlyphs bounds the glyph cache; past it the cache starts over. CJK text
// uses many distinct glyphs, but a kiosk's screens reuse a few hundred.
const maxGlyphs = 6000

// Font is one face of an OpenType font or collection, with a cache of
// rasterized glyphs per pixel size. It is safe for concurrent use.
//
// The file is read through io.ReaderAt and stays open: only the tables a
// glyph needs are read, so a 20 MB collection does not sit in memory.
type Font struct {
	file *os.File
	sf   *opentype.Font

	mu     sync.Mutex
	faces  map[int]font.Face
	glyphs map[glyphKey]*glyph
	src    image.Uniform
}

type glyphKey struct {
	r  rune
	px int
}

type glyph struct {
	mask    *image.Alpha // nil for blank glyphs (space)
	off     image.Point  // mask origin relative to the pen on the baseline
	advance int
}

// OpenFont opens face index of the font file at path (index is ignored for
// a single-face file). A missing file is an error wrapping ErrNoFont that
// says what to install.
func OpenFont(path string, index int) (*Font, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open font %s: %w: install the Debian package fonts-noto-cjk or set display.font_file to a font with Traditional Chinese", path, ErrNoFont)
	}
	if err != nil {
		return nil, fmt.Errorf("open font: %w", err)
	}
	sf, err := parseFace(f, index)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("parse font %s face %d: %w", path, index, err)
	}
	return &Font{file: f, sf: sf, faces: map[int]font.Face{}, glyphs: map[glyphKey]*glyph{}}, nil
}

func parseFace(f *os.File, index int) (*opentype.Font, error) {
	c, err := opentype.ParseCollectionReaderAt(f)
	if err != nil {
		return nil, err
	}
	if index >= c.NumFonts() {
		return nil, fmt.Errorf("collection has %d faces", c.NumFonts())
	}
	return c.Font(index)
}

// Close closes the font file.
func (f *Font) Close() error { return f.file.Close() }

// face returns the face for px pixels per em. f.mu must be held.
func (f *Font) face(px int) font.Face {
	fc, ok := f.faces[px]
	if !ok {
		// Errors come only from invalid options, which px never makes.
		fc, _ = opentype.NewFace(f.sf, &opentype.FaceOptions{Size: float64(px), DPI: 72, Hinting: font.HintingFull})
		f.faces[px] = fc
	}
	return fc
}

// glyph returns the cached glyph of r at px. f.mu must be held.
func (f *Font) glyph(r rune, px int) *glyph {
	k := glyphKey{r, px}
	if g, ok := f.glyphs[k]; ok {
		return g
	}
	if len(f.glyphs) >= maxGlyphs {
		f.glyphs = map[glyphKey]*glyph{}
	}
	fc := f.face(px)
	dr, mask, mp, adv, ok := fc.Glyph(fixed.Point26_6{}, r)
	if !ok {
		dr, mask, mp, adv, _ = fc.Glyph(fixed.Point26_6{}, '\uFFFD')
	}
	g := &glyph{off: dr.Min, advance: adv.Round()}
	if !dr.Empty() && mask != nil {
		a := image.NewAlpha(image.Rect(0, 0, dr.Dx(), dr.Dy()))
		draw.Draw(a, a.Bounds(), mask, mp, draw.Src)
		g.mask = a
	}
	f.glyphs[k] = g
	return g
}

// LineMetrics are the vertical metrics of the font at one pixel size.
type LineMetrics struct {
	Ascent, Descent, Height int
}

// Metrics returns the line metrics at px pixels per em.
func (f *Font) Metrics(px int) LineMetrics {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.face(px).Metrics()
	a, d := m.Ascent.Ceil(), m.Descent.Ceil()
	h := m.Height.Ceil()
	if h < a+d {
		h = a + d
	}
	return LineMetrics{Ascent: a, Descent: d, Height: h}
}

// Width returns the advance width of s at px.
func (f *Font) Width(s string, px int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := 0
	for _, r := range s {
		w += f.glyph(r, px).advance
	}
	return w
}

// Draw draws s with its baseline starting at (x, y) in colour c and returns
// the x after the last glyph. Drawing is clipped to dst's bounds.
func (f *Font) Draw(dst *image.RGBA, x, y int, s string, px int, c color.RGBA) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.src.C = c
	clip := dst.Bounds()
	for _, r := range s {
		g := f.glyph(r, px)
		if g.mask != nil {
			o := image.Pt(x+g.off.X, y+g.off.Y)
			gr := image.Rectangle{o, o.Add(g.mask.Rect.Max)}
			if gr.Overlaps(clip) {
				draw.DrawMask(dst, gr, &f.src, image.Point{}, g.mask, image.Point{}, draw.Over)
			}
		}
		x += g.advance
	}
	return x
}

// WidthBytes is Width for UTF-8 bytes, so a field's value never becomes a
// string (strings cannot be wiped).
func (f *Font) WidthBytes(b []byte, px int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := 0
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		w += f.glyph(r, px).advance
		i += n
	}
	return w
}

// DrawBytes is Draw for UTF-8 bytes.
func (f *Font) DrawBytes(dst *image.RGBA, x, y int, b []byte, px int, c color.RGBA) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		x = f.drawRune(dst, x, y, r, px, c)
		i += n
	}
	return x
}

func (f *Font) drawRune(dst *image.RGBA, x, y int, r rune, px int, c color.RGBA) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.src.C = c
	g := f.glyph(r, px)
	if g.mask != nil {
		o := image.Pt(x+g.off.X, y+g.off.Y)
		gr := image.Rectangle{o, o.Add(g.mask.Rect.Max)}
		if gr.Overlaps(dst.Bounds()) {
			draw.DrawMask(dst, gr, &f.src, image.Point{}, g.mask, image.Point{}, draw.Over)
		}
	}
	return x + g.advance
}

// TailStart returns the byte index in b where the longest suffix no wider
// than w at px starts, so a long field value shows its end.
func (f *Font) TailStart(b []byte, px, w int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	total := 0
	i := len(b)
	for i > 0 {
		r, n := utf8.DecodeLastRune(b[:i])
		total += f.glyph(r, px).advance
		if total > w {
			break
		}
		i -= n
	}
	return i
}
