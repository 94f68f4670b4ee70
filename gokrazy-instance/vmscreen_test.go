package instance

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
)

// vmScreen follows the VM's screen through QMP screendumps, compares it
// with the twin's frame, taps it through QEMU's usb-tablet, and keeps a
// screendump of every screen it reached in the test's artifact directory
// (go test -artifacts).
type vmScreen struct {
	t    *testing.T
	q    *qmp
	tw   *twin
	size image.Point
	tmp  string
	art  string
	kept int
	last string
	// masks are widgets whose pixels hold data that differs between the
	// VM and the twin (each has its own nhisim): the receipt's reference
	// and QR code, the e-mail code typed.
	masks []string
	// onFail adds the kiosk's log to a failure.
	onFail func() string
}

// screen follows v's screen against tw, made at v's screen size.
func (v *vm) screen(t *testing.T, tw *twin) *vmScreen {
	return &vmScreen{t: t, q: v.q, tw: tw, size: tw.UI.Size(), tmp: v.dir, art: t.ArtifactDir(), onFail: v.log.String}
}

// mirror repeats the twin's pointer events on the VM's tablet and waits
// for the VM's screen to follow (for twin.Mirror).
func (v *vmScreen) mirror(evs []display.Event) {
	v.t.Helper()
	v.send(evs)
	v.sync("", 2*time.Minute)
}

func (v *vmScreen) send(evs []display.Event) {
	v.t.Helper()
	for _, ev := range evs {
		switch ev.Kind {
		case display.PointerDown:
			v.q.pointer(ev.Pos(), v.size, true)
		case display.PointerMove:
			v.q.move(ev.Pos(), v.size)
		case display.PointerUp:
			v.q.pointer(ev.Pos(), v.size, false)
		}
	}
}

// tapVM taps the widget id of the twin's layout on the VM only (the code
// each kiosk's own e-mail holds).
func (v *vmScreen) tapVM(id string) {
	v.t.Helper()
	b := v.tw.Find(id).Bounds().Intersect(image.Rectangle{Max: v.size})
	p := image.Pt((b.Min.X+b.Max.X)/2, (b.Min.Y+b.Max.Y)/2)
	v.send([]display.Event{{Kind: display.PointerDown, X: p.X, Y: p.Y}, {Kind: display.PointerUp, X: p.X, Y: p.Y}})
}

// sync takes screendumps until one equals the twin's frame outside the
// masks, and returns when it was taken. label names the screen (its
// screen id if empty); the first dump of each screen is kept, and how
// many of its pixels differ from the twin's is logged.
func (v *vmScreen) sync(label string, d time.Duration) time.Time {
	v.t.Helper()
	if label == "" {
		label = string(v.tw.Screen())
	}
	want := v.tw.frame()
	var masks []image.Rectangle
	for _, id := range v.masks {
		if w := v.tw.UI.Find(id); w != nil {
			masks = append(masks, w.Bounds())
		}
	}
	path := filepath.Join(v.tmp, "screen.png")
	var last image.Image
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for ctx.Err() == nil {
		taken := time.Now()
		img, err := v.q.screendump(path)
		if err != nil {
			v.t.Fatal(err)
		}
		last = img
		if n, total := differing(img, want, masks); alike(n, total) {
			if label != v.last {
				v.t.Logf("%s on screen: %d of %d pixels differ from the host's frame", label, n, total)
				v.kept++
				v.keep(fmt.Sprintf("%02d-%s", v.kept, label), path)
				v.last = label
			}
			return taken
		}
		time.Sleep(100 * time.Millisecond)
	}
	v.keep("failed-"+label, path)
	v.keepImage("failed-"+label+"-want", want)
	n, total := differing(last, want, masks)
	log := ""
	if v.onFail != nil {
		log = v.onFail()
	}
	v.t.Fatalf("the VM never showed the %s screen within %v: the last screendump differs from the host's frame in %d of %d pixels (both kept in %s)\nkiosk log:\n%s",
		label, d, n, total, v.art, log)
	return time.Time{}
}

func (v *vmScreen) keep(name, path string) {
	b, err := os.ReadFile(path)
	if err == nil {
		err = os.WriteFile(filepath.Join(v.art, name+".png"), b, 0o644)
	}
	if err != nil {
		v.t.Errorf("keep screendump: %v", err)
	}
}

func (v *vmScreen) keepImage(name string, img image.Image) {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		v.t.Error(err)
		return
	}
	if err := os.WriteFile(filepath.Join(v.art, name+".png"), b.Bytes(), 0o644); err != nil {
		v.t.Error(err)
	}
}

// alike says whether n differing pixels of total still show the same
// screen: at most 0.05 % (antialiasing may round differently after the
// pixel format conversion; a different screen differs in far more).
func alike(n, total int) bool { return n*2000 <= total }

// differing counts the pixels of got (a screendump) outside masks whose
// colour differs from want's by more than a small step in any channel.
func differing(got image.Image, want *image.RGBA, masks []image.Rectangle) (n, total int) {
	b := want.Rect
	if got == nil || got.Bounds() != b {
		return b.Dx() * b.Dy(), b.Dx() * b.Dy()
	}
	for y := b.Min.Y; y < b.Max.Y; y++ {
	pixels:
		for x := b.Min.X; x < b.Max.X; x++ {
			for _, m := range masks {
				if image.Pt(x, y).In(m) {
					continue pixels
				}
			}
			o := want.PixOffset(x, y)
			if rgba, ok := got.(*image.RGBA); ok { // what QEMU's PNG decodes to
				p := rgba.Pix[rgba.PixOffset(x, y):]
				if far(uint32(p[0]), want.Pix[o]) || far(uint32(p[1]), want.Pix[o+1]) || far(uint32(p[2]), want.Pix[o+2]) {
					n++
				}
				continue
			}
			r, g, bl, _ := got.At(x, y).RGBA()
			if far(r>>8, want.Pix[o]) || far(g>>8, want.Pix[o+1]) || far(bl>>8, want.Pix[o+2]) {
				n++
			}
		}
	}
	return n, b.Dx() * b.Dy()
}

func far(a uint32, b uint8) bool {
	d := int(a) - int(b)
	return d > 8 || d < -8
}
