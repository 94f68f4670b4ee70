package gallery_test

import (
	"bufio"
	"image"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/gallery"
)

// vmRSS returns the process's resident set in MB from /proc/self/status.
func vmRSS(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skipf("no /proc: %v", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// BenchmarkFullFrame repaints the whole heaviest screen (the form with the
// QWERTY keyboard open) and reports the resident memory of the process.
func BenchmarkFullFrame(b *testing.B) {
	for _, size := range []image.Point{{1280, 800}, {1080, 1920}} {
		b.Run(strconv.Itoa(size.X)+"x"+strconv.Itoa(size.Y), func(b *testing.B) {
			h := harness(b, size, display.DefaultTheme(), display.LangZhTW, "form")
			full := image.Rectangle{Max: size}
			b.ResetTimer()
			for b.Loop() {
				h.UI.Invalidate(full)
				h.UI.Render()
			}
			b.StopTimer()
			runtime.GC()
			b.ReportMetric(vmRSS(b), "MB-rss")
		})
	}
}

// BenchmarkKeyPress is one tap on a key of the open keyboard: the key's
// press and release, the field's edit, and the repaint of what changed.
func BenchmarkKeyPress(b *testing.B) {
	h := harness(b, image.Pt(1280, 800), display.DefaultTheme(), display.LangZhTW, "form")
	k := h.UI.Find("key.q").Bounds()
	p := image.Pt(k.Min.X+k.Dx()/2, k.Min.Y+k.Dy()/2)
	f := h.UI.Find("email").(*display.Field)
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%64 == 0 {
			f.SetValue(nil, []byte("test.one@example.com.tw"))
		}
		h.UI.Handle(display.Event{Kind: display.PointerDown, X: p.X, Y: p.Y})
		h.UI.Render()
		h.UI.Handle(display.Event{Kind: display.PointerUp, X: p.X, Y: p.Y})
		h.UI.Render()
	}
	b.StopTimer()
	if !strings.Contains(string(f.Value()), "q") {
		b.Fatal("the key press did not reach the field")
	}
	_ = gallery.Pages
}
