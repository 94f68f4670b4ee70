package instance

import (
	"image"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/appliance/devices"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// twin is the wizard the VM's kiosk runs, drawn on the host by the same
// packages, font and configuration at the framebuffer's size, with a card
// of the same person and an nhisim of its own (in process, e-mails kept
// in memory). The test does every step on the twin and the VM alike and
// waits for the VM's screen to equal the twin's frame (vmScreen.sync).
type twin struct {
	*displaytest.Harness
	K      *appliance.Kiosk
	Reader *readertest.Device
	Person readertest.Person
	Mail   *upstreamtest.Mailbox
	Email  string
}

// twinOptions say what the twin starts with besides the VM's
// configuration.
type twinOptions struct {
	// Person is whose card the twin reads (TEST ONE if zero).
	Person readertest.Person
	// Email is the address the registration types.
	Email string
	// ClockUnknown starts the wizard without the correct time, as the
	// kiosk does on a guest whose clock it has not set yet.
	ClockUnknown bool
}

// newTwin starts the twin with the configuration in cfgDir (the VM's
// /perm/nhikiosk) and the image's font, at size.
func newTwin(t *testing.T, cfgDir string, size image.Point, o twinOptions) *twin {
	t.Helper()
	if o.Person.CardNumber == "" {
		o.Person = readertest.TestOne
	}
	cfg, err := config.Load(cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Display.FontFile = fontFile(t)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	f, theme, err := display.Configured(cfg.Display)
	if err != nil {
		t.Fatal(err)
	}
	clk := &displaytest.Clock{T: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	ui, err := display.New(display.Options{Font: f, Catalog: display.NewCatalog(), Theme: theme,
		Lang: cfg.Language, Size: size, DPI: cfg.Display.DPI, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	w := &twin{Harness: &displaytest.Harness{T: t, UI: ui, Screen: headless.New(size), Clock: clk},
		Reader: readertest.NewDevice("host"), Person: o.Person, Mail: upstreamtest.NewMailbox(), Email: o.Email}
	sim := upstreamtest.Start(t, server.Options{Mailer: w.Mail, Logger: log}, nil)
	client := upstream.New(upstream.Options{BaseURL: sim.URL, Timeout: 10 * time.Second, Attempts: 2,
		Backoff: time.Millisecond, Logger: log})
	s := cfg.Session
	w.K, err = appliance.NewKiosk(ui, appliance.Options{
		Lang: cfg.Language, IdleTimeout: s.IdleTimeout.D(), WarningCountdown: s.WarningCountdown.D(),
		RemovedScreen: s.RemovedScreen.D(), MaxDuration: s.MaxDuration.D(), Now: clk.Now, Log: log,
		Card: devices.Card{Device: w.Reader}, CardKey: devices.CardErrorKey,
		Upstream:     devices.Upstream{Client: client, KioskID: cfg.KioskID, CacheDir: t.TempDir(), Log: log},
		CardCheck:    devices.CardCheck{Device: w.Reader, Client: client, Log: log}, // as the kiosk in the VM
		ClockUnknown: o.ClockUnknown,
	})
	if err != nil {
		t.Fatal(err)
	}
	w.Reader.Attach()
	w.K.Start()
	w.Step()
	return w
}

// Screen is the twin's screen.
func (w *twin) Screen() appliance.ScreenID { return w.K.Machine().Screen() }

// Want fails the test unless the twin shows s.
func (w *twin) Want(s appliance.ScreenID) {
	w.T.Helper()
	if got := w.Screen(); got != s {
		w.T.Fatalf("the host's wizard is on %s, want %s", got, s)
	}
}

// Insert puts the person's card in the twin's reader.
func (w *twin) Insert() {
	w.T.Helper()
	card, err := readertest.NewCard(w.Person)
	if err != nil {
		w.T.Fatal(err)
	}
	if err := w.Reader.Insert(card); err != nil {
		w.T.Fatal(err)
	}
	w.K.Dispatch(appliance.CardInserted{})
	w.Step()
}

// Pull takes the card out and lets the "card removed" screen time out.
func (w *twin) Pull() {
	w.Reader.Remove()
	w.K.Dispatch(appliance.CardRemoved{})
	w.Step()
}

// Wait lets d pass on the twin's clock.
func (w *twin) Wait(d time.Duration) {
	for ; d > 0; d -= time.Second {
		w.Clock.T = w.Clock.T.Add(time.Second)
		w.K.Dispatch(appliance.Tick{})
	}
	w.Step()
}

// Fill taps a field, types s on the on-screen keyboard and closes it.
func (w *twin) Fill(f appliance.FieldID, s string) {
	w.T.Helper()
	w.Tap("field." + string(f))
	w.Type(s)
	if w.UI.Find("key.enter") != nil {
		w.Tap("key.enter")
	}
}

// ReadTerms scrolls the rules of the service to their end with a finger.
func (w *twin) ReadTerms() {
	w.T.Helper()
	r := w.Find("terms.text").Bounds()
	for range 80 {
		w.Drag((r.Min.X+r.Max.X)/2, r.Max.Y-10, -(r.Dy() - 30))
		if b, ok := w.UI.Find(appliance.IDAgree).(*display.Button); ok && !b.Disabled {
			return
		}
	}
	w.T.Fatalf("the rules never reached their end")
}

// frame copies the twin's current frame.
func (w *twin) frame() *image.RGBA {
	f, _ := w.UI.Render()
	c := image.NewRGBA(f.Rect)
	copy(c.Pix, f.Pix)
	return c
}
