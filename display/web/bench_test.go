package web

import (
	"image"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/gallery"
)

// galleryFrame renders a gallery page at size on the headless backend.
func galleryFrame(b *testing.B, size image.Point, page string) *image.RGBA {
	cat := display.NewCatalog()
	if err := gallery.AddMessages(cat); err != nil {
		b.Fatal(err)
	}
	h := displaytest.New(b, size, cat, display.DefaultTheme(), display.LangZhTW)
	gallery.Show(h.UI, page)
	h.Step()
	return h.Screen.Frame()
}

// BenchmarkEncode is the server's work for one batch: the whole form page
// with the keyboard open (a new screen), and one key with the field above
// it (a key press).
func BenchmarkEncode(b *testing.B) {
	for _, size := range []image.Point{{1280, 800}, {800, 480}} {
		frame := galleryFrame(b, size, "form")
		for _, tc := range []struct {
			name string
			r    image.Rectangle
		}{{"full", frame.Rect}, {"key", image.Rect(0, size.Y/2, size.X/10, size.Y/2+size.Y/10)}} {
			b.Run(strconv.Itoa(size.X)+"x"+strconv.Itoa(size.Y)+"/"+tc.name, func(b *testing.B) {
				var enc pngEncoder
				tile := frame.SubImage(tc.r).(*image.RGBA)
				var n int
				for b.Loop() {
					msg, err := encodeBatch(1, []*image.RGBA{tile}, &enc)
					if err != nil {
						b.Fatal(err)
					}
					n = len(msg)
				}
				b.ReportMetric(float64(n)/1024, "KiB/batch")
			})
		}
	}
}

// tapJS taps (pointer down, wait for its frame, up, wait for its frame)
// n times at x, y in frame pixels through the page's own handlers, and
// returns the milliseconds from each release to the frame drawn after it.
const tapJS = `(async (fx, fy, n) => {
  const c = document.getElementById("screen"), r = c.getBoundingClientRect();
  const x = r.left + (fx + 0.5) * r.width / c.width, y = r.top + (fy + 0.5) * r.height / c.height;
  const lat = [];
  for (let i = 0; i < n; i++) {
    for (const type of ["pointerdown", "pointerup"]) {
      const drawn = kiosk.next(), t0 = performance.now();
      c.dispatchEvent(new PointerEvent(type, {clientX: x, clientY: y, pointerId: 1, pointerType: "mouse",
        button: 0, isPrimary: true, bubbles: true, cancelable: true}));
      await drawn;
      if (type === "pointerup") lat.push(performance.now() - t0);
    }
  }
  return lat;
})`

// BenchmarkChromiumTap measures, in headless Chromium, a tap in the page
// to the new frame drawn in the page: on a key of the on-screen keyboard
// (a small change), and on a button that changes the whole screen (a new
// page, as "Register" does).
func BenchmarkChromiumTap(b *testing.B) {
	size := image.Pt(1280, 800)
	b.Run("key", func(b *testing.B) {
		k := startKiosk(b, size, "form")
		tapBench(b, k, "key.q")
	})
	b.Run("page", func(b *testing.B) {
		k := startKioskWith(b, size, func(ui *display.UI) {
			form, choose := gallery.Build(ui, "form"), gallery.Build(ui, "choose")
			for _, p := range [][2]*display.Page{{form, choose}, {choose, form}} {
				next := p[0].Footer[1].(*display.Button)
				next.Disabled, next.OnTap = false, func() { ui.SetPage(p[1]) }
			}
			ui.SetPage(form)
		})
		tapBench(b, k, "next")
	})
}

func tapBench(b *testing.B, k *kioskUnderTest, id string) {
	r := k.ref.Find(id).Bounds()
	p := r.Min.Add(r.Size().Div(2))
	eval[[]float64](k, tapJS+`(`+strconv.Itoa(p.X)+`, `+strconv.Itoa(p.Y)+`, 3)`) // warm up
	b.ResetTimer()
	lat := eval[[]float64](k, tapJS+`(`+strconv.Itoa(p.X)+`, `+strconv.Itoa(p.Y)+`, `+strconv.Itoa(b.N)+`)`)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(lat[len(lat)/2], "ms-p50")
	b.ReportMetric(lat[len(lat)*95/100], "ms-p95")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkChromiumFrameRate measures how many whole new screens a second
// reach the page and are drawn: each time the server has sent one, the
// next is presented, so one is always waiting (as when a kiosk changes
// screen faster than the page keeps up).
func BenchmarkChromiumFrameRate(b *testing.B) {
	size := image.Pt(1280, 800)
	frames := [2]*image.RGBA{galleryFrame(b, size, "form"), galleryFrame(b, size, "choose")}
	k := startKioskWith(b, size, func(ui *display.UI) { gallery.Show(ui, "choose") }) // a still screen
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			sent := k.s.Stats().Batches
			k.s.Present(frames[i%2], nil)
			for k.s.Stats().Batches == sent {
				select {
				case <-stop:
					return
				case <-time.After(200 * time.Microsecond):
				}
			}
		}
	}()
	defer func() { close(stop); <-done }()
	const waitJS = `(async n => { const t0 = performance.now(); for (let i = 0; i < n; i++) await kiosk.next(); return performance.now() - t0; })`
	eval[float64](k, waitJS+`(5)`)
	bytes0 := eval[float64](k, `kiosk.bytes`)
	b.ResetTimer()
	ms := eval[float64](k, waitJS+`(`+strconv.Itoa(b.N)+`)`)
	b.StopTimer()
	bytes := eval[float64](k, `kiosk.bytes`) - bytes0
	b.ReportMetric(float64(b.N)*1000/ms, "frames/s")
	b.ReportMetric(bytes/float64(b.N)/1024, "KiB/frame")
}
