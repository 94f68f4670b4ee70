package display_test

import (
	"bytes"
	"errors"
	"image"
	"slices"
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/rules"
)

func TestThemeContrast(t *testing.T) {
	for _, tc := range []struct {
		theme display.Theme
		min   float64
	}{
		{display.DefaultTheme(), 4.5},
		{display.HighContrastTheme(), 7},
		{display.LargeTextTheme(), 4.5},
	} {
		for name, p := range tc.theme.TextPairs() {
			if got := display.Contrast(p[0], p[1]); got < tc.min {
				t.Errorf("%s %s: contrast %.2f, want >= %.1f", tc.theme.Name, name, got, tc.min)
			}
		}
	}
}

func TestThemeByName(t *testing.T) {
	for _, n := range []string{"default", "high-contrast", "large-text"} {
		th, err := display.ThemeByName(n)
		if err != nil || th.Name != n {
			t.Errorf("ThemeByName(%q) = %q, %v", n, th.Name, err)
		}
	}
	if _, err := display.ThemeByName("neon"); err == nil {
		t.Error("ThemeByName(neon) succeeded")
	}
}

func TestCatalog(t *testing.T) {
	c := display.NewCatalog()
	if miss := c.Missing(); len(miss) > 0 {
		t.Errorf("display's own catalog is missing %v", miss)
	}
	if got, want := c.Text("en", "display.step", "n", 2, "total", 5), "Step 2 of 5"; got != want {
		t.Errorf("Text(en, display.step) = %q, want %q", got, want)
	}
	c.Add(display.LangZhTW, "x.only_zh", "只有中文")
	if got, want := c.Text("en", "x.only_zh"), "只有中文"; got != want {
		t.Errorf("fallback = %q, want %q", got, want)
	}
	if got, want := c.Text("en", "x.nowhere"), "[x.nowhere]"; got != want {
		t.Errorf("missing = %q, want %q", got, want)
	}
	if got, want := c.Missing(), []string{"en: x.only_zh"}; !slices.Equal(got, want) {
		t.Errorf("Missing() = %v, want %v", got, want)
	}
	if err := c.AddJSON("en", []byte(`{"x.only_zh": "English too"}`)); err != nil {
		t.Fatal(err)
	}
	if miss := c.Missing(); len(miss) > 0 {
		t.Errorf("Missing() after AddJSON = %v", miss)
	}
	if err := c.AddJSON("en", []byte(`{"x": 1}`)); err == nil {
		t.Error("AddJSON of a non-string value succeeded")
	}
}

func TestOpenFontMissing(t *testing.T) {
	_, err := display.OpenFont("/nonexistent/font.ttc", 3)
	if !errors.Is(err, display.ErrNoFont) || !strings.Contains(err.Error(), "fonts-noto-cjk") {
		t.Errorf("OpenFont(missing) = %v, want ErrNoFont naming fonts-noto-cjk", err)
	}
}

func TestPasswordStrength(t *testing.T) {
	for _, tc := range []struct {
		pw   string
		want display.Strength
	}{
		{"", display.StrengthNone},
		{"Ab1!", display.StrengthWeak},
		{"kwpmztrb", display.StrengthWeak},
		{"kwpmzt47", display.StrengthMedium},
		{"Kwpmzt47", display.StrengthMediumStrong},
		{"Ab1!xy", display.StrengthMediumStrong},
		{"Kwp739", display.StrengthMediumStrong}, // three kinds suffice, as in rules
		{"Ab3$ef7h", display.StrengthStrong},
		{"Abcdef12", display.StrengthWeak}, // common: a run with a suffix
		{"Password1!", display.StrengthWeak},
	} {
		if got := display.PasswordStrength([]byte(tc.pw)); got != tc.want {
			t.Errorf("PasswordStrength(%q) = %d, want %d", tc.pw, got, tc.want)
		}
	}
	if s, why := display.PasswordGrade([]byte("Password1!")); s != display.StrengthWeak || why != rules.ReasonCommon {
		t.Errorf("PasswordGrade(Password1!) = %d, %q; want weak, common", s, why)
	}
}

func TestWrap(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	_ = h
	f := displaytest.Font(t)
	px := 20
	for _, tc := range []struct {
		name, s string
		width   int
	}{
		{"latin", "The quick brown fox jumps over the lazy dog again and again", 200},
		{"cjk", "本服務由保險人提供，使用者以健保卡、帳號及密碼註冊後使用。", 150},
		{"long word", "supercalifragilisticexpialidocious", 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lines := display.WrapForTest(f, tc.s, px, tc.width)
			if len(lines) < 2 {
				t.Errorf("wrap(%q, %d) = %q, want several lines", tc.s, tc.width, lines)
			}
			for _, l := range lines {
				if w := f.Width(l, px); w > tc.width {
					t.Errorf("line %q is %d px, wider than %d", l, w, tc.width)
				}
				if strings.HasPrefix(l, "，") || strings.HasPrefix(l, "。") {
					t.Errorf("line %q starts with closing punctuation", l)
				}
			}
			if got := strings.ReplaceAll(strings.Join(lines, ""), " ", ""); got != strings.ReplaceAll(tc.s, " ", "") {
				t.Errorf("wrapped text %q lost characters of %q", got, tc.s)
			}
		})
	}
}

// formPage is a small page like the wizard's: a field, a masked field and
// a button.
func formPage(taps *int) *display.Page {
	email := display.NewField("email", display.M("display.key.space"), display.KindEmail)
	pw := display.NewField("pw", display.M("display.key.space"), display.KindText)
	pw.Masked = true
	pin := display.NewField("pin", display.M("display.key.space"), display.KindNumber)
	var body []display.Widget
	body = append(body, email, pw, pin)
	for range 6 { // make the body scroll
		body = append(body, display.NewLabel("", display.M("display.strength.medium_strong")))
	}
	return &display.Page{
		ID:     "form",
		Header: display.NewHeader("header", display.M("display.key.enter"), 1, 3),
		Body:   body,
		Footer: []display.Widget{display.NewButton("next", display.M("display.key.enter"), display.Primary, func() { *taps++ })},
	}
}

func TestTapAndType(t *testing.T) {
	taps := 0
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	h.UI.SetPage(formPage(&taps))
	h.Tap("email")
	if h.UI.Focus() == nil || h.UI.Focus().ID() != "email" {
		t.Fatalf("focus after tapping email = %v", h.UI.Focus())
	}
	const typed = "Test.One+1@Example.com.tw"
	h.Type(typed)
	if got := string(h.UI.Focus().Value()); got != typed {
		t.Errorf("typed %q, field holds %q", typed, got)
	}
	h.Tap("key.backspace")
	if got, want := string(h.UI.Focus().Value()), typed[:len(typed)-1]; got != want {
		t.Errorf("after backspace %q, want %q", got, want)
	}
	h.Tap("pin")
	if h.UI.Find("keypad") == nil || h.UI.Find("key.a") != nil {
		t.Error("a number field did not open the keypad")
	}
	h.Type("0912")
	if got := string(h.UI.Focus().Value()); got != "0912" {
		t.Errorf("keypad typed %q, want 0912", got)
	}
	h.Tap("key.enter")
	if h.UI.Focus() != nil {
		t.Error("enter did not close the keyboard")
	}
	h.Tap("next")
	if taps != 1 {
		t.Errorf("next tapped %d times, want 1", taps)
	}
}

func TestMaskedFieldNeverDrawsPlainText(t *testing.T) {
	frames := map[string][]byte{}
	for _, secret := range []string{"A123456789", "Zz9$Zz9$Zz"} {
		h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
		h.UI.SetPage(formPage(new(int)))
		h.Tap("pw")
		h.Type(secret)
		for _, r := range h.UI.Audit() {
			if strings.Contains(r.Text, secret[:4]) {
				t.Errorf("masked field drew %q", r.Text)
			}
		}
		frames[secret] = h.PNG()
	}
	if d := displaytest.Diff(frames["A123456789"], frames["Zz9$Zz9$Zz"]); d != "" {
		t.Errorf("frames of two different secrets differ (%s): the masked field shows its contents", d)
	}
}

func TestWipeZeroesFields(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), "en")
	h.UI.SetPage(formPage(new(int)))
	h.Tap("email")
	h.Type("test.one@example.com")
	f := h.Find("email").(*display.Field)
	backing := display.FieldBytes(f)
	h.UI.Wipe()
	if f.Len() != 0 || h.UI.Focus() != nil {
		t.Errorf("after Wipe: len %d, focus %v", f.Len(), h.UI.Focus())
	}
	if !bytes.Equal(backing, make([]byte, len(backing))) {
		t.Errorf("after Wipe the field's bytes are %q", backing)
	}
}

func TestStateSurvivesLanguageAndThemeSwitch(t *testing.T) {
	h := displaytest.New(t, image.Pt(800, 480), nil, display.DefaultTheme(), display.LangZhTW)
	h.UI.SetPage(formPage(new(int)))
	h.Tap("email")
	h.Type("a@b.com")
	h.UI.SetLang(display.LangEn)
	h.UI.SetTheme(display.LargeTextTheme())
	h.Step()
	if f := h.UI.Focus(); f == nil || f.ID() != "email" || string(f.Value()) != "a@b.com" {
		t.Fatalf("after switching: focus %v", f)
	}
	h.Type("x")
	if got := string(h.UI.Focus().Value()); got != "a@b.comx" {
		t.Errorf("value %q after switching and typing", got)
	}
	if h.UI.Find("key.space") == nil {
		t.Error("keyboard gone after switching")
	}
}

func TestKeyPressRepaintsLittle(t *testing.T) {
	h := displaytest.New(t, image.Pt(1280, 800), nil, display.DefaultTheme(), "en")
	h.UI.SetPage(formPage(new(int)))
	h.Tap("email")
	h.Step()
	k := h.Find("key.q").Bounds()
	h.UI.Handle(display.Event{Kind: display.PointerDown, X: k.Min.X + 5, Y: k.Min.Y + 5})
	h.UI.Handle(display.Event{Kind: display.PointerUp, X: k.Min.X + 5, Y: k.Min.Y + 5})
	_, dirty := h.UI.Render()
	area := 0
	for _, r := range dirty {
		area += r.Dx() * r.Dy()
	}
	if len(dirty) == 0 || area*5 > 1280*800 {
		t.Errorf("a key press repainted %v (%d px), want a small part of the frame", dirty, area)
	}
}

// TestTouchTargetsAtLeast9mm checks every button and key, both sides, on
// the three panels at their real densities (Pi 7" 800×480 ≈ 133 dpi, Pi
// Touch Display 2 ≈ 216 dpi, a 24" portrait lobby screen ≈ 92 dpi) and at
// the default 96 dpi.
func TestTouchTargetsAtLeast9mm(t *testing.T) {
	for _, tc := range []struct {
		size image.Point
		dpi  float64
	}{
		{image.Pt(800, 480), 133}, {image.Pt(1280, 800), 216}, {image.Pt(1080, 1920), 92},
		{image.Pt(800, 480), 96}, {image.Pt(1280, 800), 96}, {image.Pt(1080, 1920), 96},
	} {
		ui, err := display.New(display.Options{Font: displaytest.Font(t), Catalog: display.NewCatalog(), Size: tc.size, DPI: tc.dpi})
		if err != nil {
			t.Fatal(err)
		}
		ui.SetPage(formPage(new(int)))
		minPx := int(9 / 25.4 * tc.dpi)
		check := func(ids ...string) {
			for _, id := range ids {
				w := ui.Find(id)
				if w == nil {
					t.Fatalf("no widget %q", id)
				}
				if b := w.Bounds(); b.Dx() < minPx || b.Dy() < minPx {
					t.Errorf("%v at %v dpi: %s is %dx%d px, want both >= %d (9 mm)", tc.size, tc.dpi, id, b.Dx(), b.Dy(), minPx)
				}
			}
		}
		check("next")
		ui.SetFocus(ui.Find("email").(*display.Field))
		check("key.q", "key.p", "key.shift", "key.backspace", "key.@", "key..edu.tw", "key.symbols", "key.space", "key.enter")
		ui.SetFocus(ui.Find("pin").(*display.Field))
		check("key.1", "key.0", "key.backspace", "key.enter")
	}
}

func TestConfigured(t *testing.T) {
	d := config.Default().Display
	d.Theme = "high-contrast"
	displaytest.Font(t) // skips without fonts-noto-cjk
	f, th, err := display.Configured(d)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if th.Name != "high-contrast" || f.Width("測試", 20) <= 0 {
		t.Errorf("Configured = theme %q, width %d", th.Name, f.Width("測試", 20))
	}
	d.FontFile = "/nonexistent/font.ttc"
	if _, _, err := display.Configured(d); !errors.Is(err, display.ErrNoFont) {
		t.Errorf("Configured with a missing font = %v, want ErrNoFont", err)
	}
}
