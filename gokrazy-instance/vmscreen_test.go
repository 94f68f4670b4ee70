package instance

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
// waits for the VM's screen to equal the twin's frame.
type twin struct {
	*displaytest.Harness
	K      *appliance.Kiosk
	Reader *readertest.Device
	Person readertest.Person
	Mail   *upstreamtest.Mailbox
	Email  string
}

func newTwin(t *testing.T, cfgDir, font string, size image.Point, p readertest.Person, email string) *twin {
	t.Helper()
	cfg, err := config.Load(cfgDir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Display.FontFile = font
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
		Reader: readertest.NewDevice("host"), Person: p, Mail: upstreamtest.NewMailbox(), Email: email}
	sim := upstreamtest.Start(t, server.Options{Mailer: w.Mail, Logger: log}, nil)
	client := upstream.New(upstream.Options{BaseURL: sim.URL, Timeout: 10 * time.Second, Attempts: 2,
		Backoff: time.Millisecond, Logger: log})
	s := cfg.Session
	w.K, err = appliance.NewKiosk(ui, appliance.Options{
		Lang: cfg.Language, IdleTimeout: s.IdleTimeout.D(), WarningCountdown: s.WarningCountdown.D(),
		RemovedScreen: s.RemovedScreen.D(), MaxDuration: s.MaxDuration.D(), Now: clk.Now, Log: log,
		Card: devices.Card{Device: w.Reader}, CardKey: devices.CardErrorKey,
		Upstream:  devices.Upstream{Client: client, KioskID: cfg.KioskID, CacheDir: t.TempDir(), Log: log},
		CardCheck: devices.CardCheck{Device: w.Reader, Client: client, Log: log}, // as the kiosk in the VM
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

// vmScreen follows the VM's screen through QMP screendumps, taps it
// through QEMU's usb-tablet, and keeps a screendump of every screen it
// reached in the test's artifact directory (go test -artifacts).
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

// mirror repeats the twin's pointer events on the VM's tablet and waits
// for the VM's screen to follow.
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
// screen id if empty); the first dump of each screen is kept.
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
		if n, total := differing(img, want, masks); n*2000 <= total {
			if label != v.last {
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
