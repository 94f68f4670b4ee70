package appliance

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
)

var update = flag.Bool("update", false, "rewrite the golden screenshots in testdata/")

// screenDriver is the wizard on a headless screen with fakes behind it.
type screenDriver struct {
	*displaytest.Harness
	k    *Kiosk
	up   *fakeUpstream
	card *fakeCard
	logs bytes.Buffer
	// fast drives the machine directly instead of tapping and typing on
	// the screen, and renders only when asked: the golden images need the
	// state, not the journey (the journey is tested at one size).
	fast bool
}

func newScreenDriver(t testing.TB, size image.Point, lang string) *screenDriver {
	t.Helper()
	h := displaytest.New(t, size, display.NewCatalog(), display.DefaultTheme(), lang)
	d := &screenDriver{Harness: h, up: newFakeUpstream(), card: &fakeCard{}}
	k, err := NewKiosk(h.UI, Options{
		Lang: lang, IdleTimeout: 60 * time.Second, WarningCountdown: 20 * time.Second,
		RemovedScreen: 4 * time.Second, MaxDuration: 20 * time.Minute,
		Now: h.Clock.Now, Log: slog.New(slog.NewJSONHandler(&d.logs, nil)),
		Card: d.card, Upstream: d.up,
		CardKey: func(err error) string { return "card.error.mute" },
	})
	if err != nil {
		t.Fatal(err)
	}
	d.k = k
	k.Start()
	h.Step()
	t.Cleanup(func() { checkNoPII(t, d.logs.String()) })
	return d
}

// checkNoPII fails the test if the test person's data reached the log.
func checkNoPII(t testing.TB, logs string) {
	t.Helper()
	for _, pii := range []string{testID, testCard, testName, testEmail, testPassword, testHousehold, "0912345678", "27065866"} {
		if strings.Contains(logs, pii) {
			t.Errorf("logs contain personal data %q", pii)
		}
	}
}

func (d *screenDriver) wantScreen(want ScreenID) {
	d.T.Helper()
	if got := d.k.m.Screen(); got != want {
		d.T.Fatalf("screen = %s, want %s (errors %v)", got, want, d.k.m.sess.errs)
	}
}

// do dispatches events as the runner would.
func (d *screenDriver) do(evs ...Event) {
	for _, ev := range evs {
		d.k.Dispatch(ev)
	}
	if !d.fast {
		d.Step()
	}
}

// tap taps the widget id, or in fast mode hands the tap to the machine.
func (d *screenDriver) tap(id string) {
	d.T.Helper()
	if d.fast {
		if f, ok := d.UI.Find(id).(*display.Field); ok {
			d.UI.SetFocus(f)
			return
		}
		d.k.Dispatch(Tap{ID: id})
		return
	}
	d.Tap(id)
}

// fill taps field f, types s on the on-screen keyboard and closes it (in
// fast mode: sets the field as the keyboard would).
func (d *screenDriver) fill(f FieldID, s string) {
	d.T.Helper()
	if d.fast {
		d.k.Dispatch(SetField{Field: f, Value: []byte(s)})
		return
	}
	d.Tap("field." + string(f))
	d.Type(s)
	if d.UI.Find("key.enter") != nil {
		d.Tap("key.enter")
	}
}

// toEnd scrolls the rules to their end as a finger would.
func (d *screenDriver) toEnd() {
	d.T.Helper()
	if d.fast {
		d.k.Dispatch(ScrolledToEnd{})
		return
	}
	w := d.Find("terms.text")
	r := w.Bounds()
	for i := 0; i < 60 && !flowOf[*registration](d.T, d.k.m).termsAtEnd; i++ {
		d.Drag((r.Min.X+r.Max.X)/2, r.Max.Y-10, -(r.Dy() - 30))
	}
	if !flowOf[*registration](d.T, d.k.m).termsAtEnd {
		d.T.Fatalf("the rules never reached their end")
	}
}

// register walks the registration through the screens up to stop.
func (d *screenDriver) register(stop ScreenID) {
	d.T.Helper()
	d.do(CardInserted{})
	d.tap(IDRegister)
	steps := []struct {
		screen ScreenID
		fill   func()
	}{
		{ScreenTerms, func() { d.toEnd(); d.tap(IDAgree) }},
		{ScreenCard, func() { d.tap(IDNext) }},
		{ScreenHousehold, func() { d.fill(FieldHousehold, "f1234567"); d.tap(IDNext) }},
		{ScreenAddress, func() {
			d.tap("county.63000")
			d.tap("township.63000050")
			d.tap("village.6300005001")
			d.fill(FieldNeighbourhood, "12")
			d.tap(IDNext)
		}},
		{ScreenPassword, func() {
			d.fill(FieldPassword, testPassword)
			d.fill(FieldPassword2, testPassword)
			d.tap(IDNext)
		}},
		{ScreenContact, func() {
			d.fill(FieldPhoneArea, "02")
			d.fill(FieldPhoneNumber, "27065866")
			d.fill(FieldMobile, "0912345678")
			d.fill(FieldEmail, testEmail)
			d.tap(IDNext)
		}},
	}
	for _, st := range steps {
		d.wantScreen(st.screen)
		if st.screen == stop {
			return
		}
		st.fill()
	}
	d.wantScreen(ScreenReview)
}

func (d *screenDriver) service(id string) {
	d.do(CardInserted{})
	d.tap(id)
}

// screenState names a screen and how a driver reaches it from attract.
type screenState struct {
	name  string
	reach func(d *screenDriver)
}

// screenStates reaches every screen and every error state of the wizard.
var screenStates = []screenState{
	{"attract", func(d *screenDriver) {}},
	{"reading", func(d *screenDriver) { d.k.hold = true; d.do(CardInserted{}) }},
	{"card-error", func(d *screenDriver) { d.card.err = errors.New("mute"); d.do(CardInserted{}) }},
	{"help", func(d *screenDriver) { d.tap(IDHelp) }},
	{"menu", func(d *screenDriver) { d.do(CardInserted{}) }},
	{"terms-loading", func(d *screenDriver) { d.do(CardInserted{}); d.k.hold = true; d.tap(IDRegister) }},
	{"terms", func(d *screenDriver) { d.up.errs["Terms"] = ErrUnavailable; d.register(ScreenTerms) }},
	{"card", func(d *screenDriver) { d.register(ScreenCard) }},
	{"household", func(d *screenDriver) { d.register(ScreenHousehold); d.tap("field.household") }},
	{"household-error", func(d *screenDriver) { d.register(ScreenHousehold); d.fill(FieldHousehold, "12345678") }},
	{"address-county", func(d *screenDriver) { d.register(ScreenAddress) }},
	{"address-township", func(d *screenDriver) { d.register(ScreenAddress); d.tap("county.63000") }},
	{"address-village", func(d *screenDriver) {
		d.register(ScreenAddress)
		d.tap("county.63000")
		d.tap("township.63000050")
	}},
	{"address-village-required", func(d *screenDriver) {
		d.register(ScreenAddress)
		d.tap("county.63000")
		d.tap("township.63000050")
		d.tap(IDNext)
	}},
	{"address-neighbourhood", func(d *screenDriver) {
		d.register(ScreenAddress)
		d.tap("county.63000")
		d.tap("township.63000050")
		d.tap("village.6300005001")
		d.fill(FieldNeighbourhood, "12")
	}},
	{"password", func(d *screenDriver) { d.register(ScreenPassword); d.fill(FieldPassword, "Abc123") }},
	{"password-mismatch", func(d *screenDriver) {
		d.register(ScreenPassword)
		d.fill(FieldPassword, testPassword)
		d.fill(FieldPassword2, "Abc12!")
		d.tap(IDNext)
	}},
	{"contact", func(d *screenDriver) { d.register(ScreenContact) }},
	{"contact-errors", func(d *screenDriver) {
		d.register(ScreenContact)
		d.fill(FieldPhoneArea, "2")
		d.fill(FieldMobile, "0812")
		d.fill(FieldEmail, "test.one@hotmail.com")
		d.tap(IDNext)
	}},
	{"review", func(d *screenDriver) { d.register(ScreenReview) }},
	{"busy", func(d *screenDriver) { d.register(ScreenReview); d.k.hold = true; d.tap(IDSubmit) }},
	{"receipt", func(d *screenDriver) { d.register(ScreenReview); d.tap(IDSubmit) }},
	{"receipt-queued", func(d *screenDriver) {
		d.up.errs["Register"] = ErrUnavailable
		d.register(ScreenReview)
		d.tap(IDSubmit)
	}},
	{"register-field-error", func(d *screenDriver) {
		d.up.errs["Register"] = &UpstreamError{Kind: KindInvalid, Fields: []FieldProblem{{Field: FieldEmail, Code: "taken"}}}
		d.register(ScreenReview)
		d.tap(IDSubmit)
	}},
	{"error-already-registered", func(d *screenDriver) {
		d.up.errs["Register"] = &UpstreamError{Kind: KindAlreadyRegistered}
		d.register(ScreenReview)
		d.tap(IDSubmit)
	}},
	{"error-unavailable", func(d *screenDriver) { d.up.errs["Resend"] = ErrUnavailable; d.service(IDResend); d.tap(IDSubmit) }},
	{"error-not-registered", func(d *screenDriver) {
		d.up.errs["Verify"] = &UpstreamError{Kind: KindNotRegistered}
		d.service(IDVerify)
		d.fill(FieldCode, "123456")
		d.tap(IDSubmit)
	}},
	{"error-locked", func(d *screenDriver) {
		d.up.errs["RequestReset"] = &UpstreamError{Kind: KindLocked}
		d.service(IDForgot)
		d.tap(IDSubmit)
	}},
	{"error-already-verified", func(d *screenDriver) {
		d.up.errs["Verify"] = &UpstreamError{Kind: KindAlreadyVerified}
		d.service(IDVerify)
		d.fill(FieldCode, "123456")
		d.tap(IDSubmit)
	}},
	{"error-not-active", func(d *screenDriver) {
		d.up.errs["RequestReset"] = &UpstreamError{Kind: KindNotActive}
		d.service(IDForgot)
		d.tap(IDSubmit)
	}},
	{"error-rejected", func(d *screenDriver) {
		d.up.errs["Resend"] = &UpstreamError{Kind: KindRejected}
		d.service(IDResend)
		d.tap(IDSubmit)
	}},
	{"card-error-not-nhi", func(d *screenDriver) {
		d.card.err = errors.New("not nhi")
		d.k.m.opt.CardKey = func(error) string { return "card.error.not_nhi" }
		d.do(CardInserted{})
	}},
	{"address-unknown", func(d *screenDriver) {
		d.up.errs["Register"] = &UpstreamError{Kind: KindInvalid, Fields: []FieldProblem{{Field: FieldAddress, Code: "unknown"}}}
		d.register(ScreenReview)
		d.tap(IDSubmit)
	}},
	{"verify", func(d *screenDriver) { d.service(IDVerify); d.tap("field.code") }},
	{"verify-bad-code", func(d *screenDriver) { d.service(IDVerify); d.fill(FieldCode, "654321"); d.tap(IDSubmit) }},
	{"resend", func(d *screenDriver) { d.service(IDResend) }},
	{"forgot", func(d *screenDriver) { d.service(IDForgot) }},
	{"reset", func(d *screenDriver) { d.service(IDForgot); d.tap(IDSubmit); d.fill(FieldPassword, "Xyz98#ab") }},
	{"delete", func(d *screenDriver) { d.service(IDDelete) }},
	{"delete-wrong-password", func(d *screenDriver) { d.service(IDDelete); d.fill(FieldPassword, "Wrong1!x"); d.tap(IDSubmit) }},
	{"result", func(d *screenDriver) { d.service(IDVerify); d.fill(FieldCode, "123456"); d.tap(IDSubmit) }},
	{"removed", func(d *screenDriver) { d.register(ScreenCard); d.do(CardRemoved{}) }},
	{"idle-warning", func(d *screenDriver) {
		d.register(ScreenHousehold)
		d.Clock.T = d.Clock.T.Add(62 * time.Second)
		d.do(Tick{})
	}},
	{"out-of-service", func(d *screenDriver) { d.do(Maintenance{On: true}) }},
	{"out-of-service-clock", func(d *screenDriver) { d.do(Clock{Known: false}) }},
	{"out-of-service-no-reader", func(d *screenDriver) { d.do(Hardware{NoReader: true}) }},
	{"out-of-service-no-touch", func(d *screenDriver) { d.do(Hardware{NoTouch: true}) }},
	{"out-of-service-no-devices-tamper", func(d *screenDriver) { d.do(Tamper{Open: true}, Hardware{NoReader: true, NoTouch: true}) }},
}

// golden compares the frame with testdata/<name>.png pixel for pixel (the
// PNG is decoded and its pixels compared as bytes: encoding 156 frames per
// run would cost more than everything else), or rewrites it with -update.
func (d *screenDriver) golden(name string) {
	d.T.Helper()
	d.Step()
	if *update {
		d.Golden(name, true)
		return
	}
	frame, _ := d.UI.Render()
	f, err := os.Open(filepath.Join("testdata", name+".png"))
	if err != nil {
		d.T.Fatalf("golden %s: %v (run with -update to create it)", name, err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		d.T.Fatalf("golden %s: %v", name, err)
	}
	want := image.NewRGBA(img.Bounds())
	draw.Draw(want, want.Rect, img, image.Point{}, draw.Src)
	if want.Rect != frame.Rect || !bytes.Equal(want.Pix, frame.Pix) {
		d.Golden(name, false) // says how much differs and writes what was drawn
	}
}

var screenSizes = []image.Point{{800, 480}, {1080, 1920}}

// TestGoldenScreens renders every screen and error state in both languages
// at both panel sizes, compares them with testdata/, and checks that no
// text is clipped or overlaps.
func TestGoldenScreens(t *testing.T) {
	goldenStates(t, screenStates)
}

// goldenStates renders each state in both languages at both panel sizes,
// compares it with testdata/ and checks no text is clipped or overlaps.
func goldenStates(t *testing.T, states []screenState) {
	for _, size := range screenSizes {
		for _, lang := range []string{LangZhTW, LangEn} {
			for _, st := range states {
				name := fmt.Sprintf("%s-%dx%d-%s", st.name, size.X, size.Y, lang)
				t.Run(name, func(t *testing.T) {
					d := newScreenDriver(t, size, lang)
					d.fast = true
					st.reach(d)
					d.Step()
					displaytest.CheckText(t, name, d.UI.Audit(), image.Rectangle{Max: size})
					d.golden(name)
				})
			}
		}
	}
}
