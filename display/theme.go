package display

import (
	"fmt"
	"image/color"
	"math"
)

// Theme is the colours and text scale of every screen. Switching the theme
// keeps every widget's state.
type Theme struct {
	// Name is the configuration name: "default", "high-contrast",
	// "large-text".
	Name string
	// TextScale multiplies every font size; layout re-flows to fit.
	TextScale float64

	Background color.RGBA // page behind everything
	Surface    color.RGBA // fields, cards, list rows
	Text       color.RGBA // body text on Background and Surface
	Muted      color.RGBA // secondary text (hints, step counter on surface)
	Border     color.RGBA // outlines of fields and cards
	Primary    color.RGBA // the main button, focus ring, checked boxes
	OnPrimary  color.RGBA // text on Primary
	Secondary  color.RGBA // other buttons
	OnSecond   color.RGBA // text on Secondary
	Header     color.RGBA // header band
	OnHeader   color.RGBA // text on Header
	Error      color.RGBA // error lines and weak strength
	Good       color.RGBA // strong strength
	Key        color.RGBA // keyboard keys
	OnKey      color.RGBA // key labels
	KeyPressed color.RGBA // a key while held
	KeyboardBg color.RGBA // behind the keys
	Scrim      color.RGBA // over the page behind a dialog (alpha used)
}

func rgb(v uint32) color.RGBA {
	return color.RGBA{uint8(v >> 16), uint8(v >> 8), uint8(v), 0xff}
}

// DefaultTheme is calm blue on light grey, what a public office's signage
// looks like.
func DefaultTheme() Theme {
	return Theme{
		Name: "default", TextScale: 1,
		Background: rgb(0xf3f5f8), Surface: rgb(0xffffff), Text: rgb(0x1b1f24),
		Muted: rgb(0x4f5864), Border: rgb(0x8a94a3),
		Primary: rgb(0x0b57a4), OnPrimary: rgb(0xffffff),
		Secondary: rgb(0xdfe6ef), OnSecond: rgb(0x10355e),
		Header: rgb(0x0d3f73), OnHeader: rgb(0xffffff),
		Error: rgb(0xb3261e), Good: rgb(0x1e6b34),
		Key: rgb(0xffffff), OnKey: rgb(0x1b1f24), KeyPressed: rgb(0xb9d3f0),
		KeyboardBg: rgb(0xd5dbe3), Scrim: color.RGBA{0, 0, 0, 0x99},
	}
}

// HighContrastTheme is white and yellow on black; every text colour has a
// contrast of at least 7:1 against what it is drawn on (WCAG AAA).
func HighContrastTheme() Theme {
	return Theme{
		Name: "high-contrast", TextScale: 1,
		Background: rgb(0x000000), Surface: rgb(0x000000), Text: rgb(0xffffff),
		Muted: rgb(0xe0e0e0), Border: rgb(0xffffff),
		Primary: rgb(0xffe600), OnPrimary: rgb(0x000000),
		Secondary: rgb(0x000000), OnSecond: rgb(0xffffff),
		Header: rgb(0x000000), OnHeader: rgb(0xffe600),
		Error: rgb(0xff9e9e), Good: rgb(0x7dff8c),
		Key: rgb(0x1a1a1a), OnKey: rgb(0xffffff), KeyPressed: rgb(0x5a5000),
		KeyboardBg: rgb(0x000000), Scrim: color.RGBA{0, 0, 0, 0xd0},
	}
}

// LargeTextTheme is the default colours with text 1.5 times as large.
func LargeTextTheme() Theme {
	t := DefaultTheme()
	t.Name, t.TextScale = "large-text", 1.5
	return t
}

// ThemeByName returns the theme a configuration names.
func ThemeByName(name string) (Theme, error) {
	switch name {
	case "default", "":
		return DefaultTheme(), nil
	case "high-contrast":
		return HighContrastTheme(), nil
	case "large-text":
		return LargeTextTheme(), nil
	}
	return Theme{}, fmt.Errorf("unknown theme %q", name)
}

// TextPairs returns every (text, background) colour pair the widgets draw,
// for contrast checks.
func (t Theme) TextPairs() map[string][2]color.RGBA {
	return map[string][2]color.RGBA{
		"text/background":  {t.Text, t.Background},
		"text/surface":     {t.Text, t.Surface},
		"muted/surface":    {t.Muted, t.Surface},
		"muted/bg":         {t.Muted, t.Background},
		"primary":          {t.OnPrimary, t.Primary},
		"secondary":        {t.OnSecond, t.Secondary},
		"header":           {t.OnHeader, t.Header},
		"error/background": {t.Error, t.Background},
		"error/surface":    {t.Error, t.Surface},
		"key":              {t.OnKey, t.Key},
		"key-pressed":      {t.OnKey, t.KeyPressed},
	}
}

// Contrast returns the WCAG 2 contrast ratio of two opaque colours.
func Contrast(a, b color.RGBA) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

func luminance(c color.RGBA) float64 {
	ch := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(c.R) + 0.7152*ch(c.G) + 0.0722*ch(c.B)
}
