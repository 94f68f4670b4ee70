package gallery_test

import (
	"flag"
	"fmt"
	"image"
	"testing"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/gallery"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs under testdata")

// Sizes are the three panels the kiosk ships with.
var sizes = []image.Point{{800, 480}, {1280, 800}, {1080, 1920}}

func themes() []display.Theme {
	return []display.Theme{display.DefaultTheme(), display.HighContrastTheme(), display.LargeTextTheme()}
}

var langs = []string{display.LangZhTW, display.LangEn}

func catalog(t testing.TB) *display.Catalog {
	cat := display.NewCatalog()
	if err := gallery.AddMessages(cat); err != nil {
		t.Fatal(err)
	}
	return cat
}

func harness(t testing.TB, size image.Point, th display.Theme, lang, page string) *displaytest.Harness {
	h := displaytest.New(t, size, catalog(t), th, lang)
	gallery.Show(h.UI, page)
	h.Step()
	return h
}

func TestCatalogComplete(t *testing.T) {
	if miss := catalog(t).Missing(display.LangZhTW, display.LangEn); len(miss) > 0 {
		t.Errorf("catalog keys missing: %v", miss)
	}
}

// TestGolden compares the form page (keyboard open) in every size, theme
// and language, and the other pages at 1280×800, with testdata/*.png.
func TestGolden(t *testing.T) {
	for _, size := range sizes {
		for _, th := range themes() {
			for _, lang := range langs {
				name := fmt.Sprintf("form-%dx%d-%s-%s", size.X, size.Y, th.Name, lang)
				t.Run(name, func(t *testing.T) {
					harness(t, size, th, lang, "form").Golden(name, *update)
				})
			}
		}
	}
	for _, page := range []string{"choose", "status", "idle"} {
		for _, lang := range langs {
			name := fmt.Sprintf("%s-1280x800-default-%s", page, lang)
			t.Run(name, func(t *testing.T) {
				harness(t, image.Pt(1280, 800), display.DefaultTheme(), lang, page).Golden(name, *update)
			})
		}
	}
}

// TestNoTextClipped measures every piece of text drawn against the box it
// was given, on every page, size, theme and language, with each keyboard
// layer open.
func TestNoTextClipped(t *testing.T) {
	for _, size := range sizes {
		for _, th := range themes() {
			for _, lang := range langs {
				for _, page := range gallery.Pages {
					label := fmt.Sprintf("%s-%dx%d-%s-%s", page, size.X, size.Y, th.Name, lang)
					h := harness(t, size, th, lang, page)
					displaytest.CheckText(t, label, h.UI.Audit(), image.Rectangle{Max: size})
					if page == "form" {
						h.Tap("key.symbols")
						displaytest.CheckText(t, label+"-symbols", h.UI.Audit(), image.Rectangle{Max: size})
						h.Tap("mobile")
						displaytest.CheckText(t, label+"-keypad", h.UI.Audit(), image.Rectangle{Max: size})
						h.UI.SetFocus(nil)
						displaytest.CheckText(t, label+"-footer", h.UI.Audit(), image.Rectangle{Max: size})
					}
				}
			}
		}
	}
}
