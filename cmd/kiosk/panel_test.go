package main

import (
	"bytes"
	"context"
	"errors"
	"image"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/appliance/devices"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/display/displaytest"
	"github.com/nhikiosk/nhikiosk/display/headless"
	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/panel"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

// buzzerPin is a fake buzzer that keeps the length, in outputs (panel
// ticks), of every beep it made.
type buzzerPin struct {
	gpiotest.Pin
	mu    sync.Mutex
	beeps []int
	on    int
}

func (b *buzzerPin) Out(l gpio.Level) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case l == gpio.High:
		b.on++
	case b.on > 0:
		b.beeps = append(b.beeps, b.on)
		b.on = 0
	}
	return b.Pin.Out(l)
}

func (b *buzzerPin) take() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	got := b.beeps
	b.beeps = nil
	return got
}

// noUpstream answers the wizard's start-up calls with an error (the
// built-in division list serves); other calls are not made here.
type noUpstream struct{ appliance.Upstream }

var errOffline = errors.New("offline in this test")

func (noUpstream) Divisions(context.Context) (appliance.DivisionList, error) {
	return appliance.DivisionList{}, errOffline
}
func (noUpstream) Terms(context.Context, string) (appliance.Terms, error) {
	return appliance.Terms{}, errOffline
}

// panelRig is the kiosk wired as start wires it, on fake pins, a virtual
// card reader and a headless screen.
type panelRig struct {
	t                  *testing.T
	ready, busy, fault *gpiotest.Pin
	presence, tamper   *gpiotest.Pin
	buzzer             *buzzerPin
	vr                 *readertest.Device
	kp                 *kioskPanel
	mu                 sync.Mutex
	state              appliance.State
	tamperHook         []bool
	now                time.Time
	screen             *headless.Screen
}

func newPanelRig(t *testing.T, bl *panel.Backlight) *panelRig {
	r := &panelRig{t: t,
		ready: &gpiotest.Pin{N: "ready"}, busy: &gpiotest.Pin{N: "busy"}, fault: &gpiotest.Pin{N: "fault"},
		presence: &gpiotest.Pin{N: "presence", EdgesChan: make(chan gpio.Level, 4)},
		tamper:   &gpiotest.Pin{N: "tamper", EdgesChan: make(chan gpio.Level, 4)},
		buzzer:   &buzzerPin{Pin: gpiotest.Pin{N: "buzzer"}},
		vr:       readertest.NewDevice("virtual"),
		now:      time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC),
	}
	log := slog.New(slog.DiscardHandler)
	r.kp = newKioskPanel(panel.Pins{LEDReady: r.ready, LEDBusy: r.busy, LEDFault: r.fault, Buzzer: r.buzzer,
		Presence: r.presence, Tamper: r.tamper}, bl, log, r.clock)
	r.kp.OnTamper(func(open bool) { r.mu.Lock(); r.tamperHook = append(r.tamperHook, open); r.mu.Unlock() })
	size := image.Pt(800, 480)
	h := displaytest.New(t, size, display.NewCatalog(), display.DefaultTheme(), "en")
	k, err := appliance.NewKiosk(h.UI, appliance.Options{Lang: appliance.LangEn,
		IdleTimeout: time.Minute, WarningCountdown: 20 * time.Second, RemovedScreen: 4 * time.Second,
		MaxDuration: 20 * time.Minute, Log: log, Card: devices.Card{Device: r.vr}, CardKey: devices.CardErrorKey,
		Upstream: noUpstream{}})
	if err != nil {
		t.Fatal(err)
	}
	r.screen = headless.New(size)
	d, s := r.kp.wrap(r.vr, r.screen)
	r.kp.attach(k)
	k.Observe(func(s appliance.State) { r.mu.Lock(); r.state = s; r.mu.Unlock() })
	ctx, cancel := context.WithCancel(context.Background())
	cards := make(chan appliance.Event, 8)
	var wg sync.WaitGroup
	wg.Go(func() { devices.WatchCards(ctx, d, cards) })
	wg.Go(func() { r.kp.Run(ctx) })
	wg.Go(func() { k.Run(ctx, s, cards) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

func (r *panelRig) clock() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now }

func (r *panelRig) advance(d time.Duration) { r.mu.Lock(); r.now = r.now.Add(d); r.mu.Unlock() }

func (r *panelRig) screenID() appliance.ScreenID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.state.Screen
}

// leds reads the LEDs as "ready busy fault", 0 or 1 each.
func (r *panelRig) leds() string {
	s := ""
	for _, p := range []*gpiotest.Pin{r.ready, r.busy, r.fault} {
		if p.Read() == gpio.High {
			s += "1"
		} else {
			s += "0"
		}
	}
	return s
}

// wait polls cond until it holds; the deadline only stops a broken test.
func (r *panelRig) wait(what string, cond func() bool) {
	r.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if cond() {
			return
		}
	}
	r.t.Fatalf("timed out waiting for %s (screen %s, LEDs %s)", what, r.screenID(), r.leds())
}

func (r *panelRig) waitLEDs(want string) {
	r.t.Helper()
	r.wait("LEDs "+want, func() bool { return r.leds() == want })
}

func (r *panelRig) waitScreen(want appliance.ScreenID) {
	r.t.Helper()
	r.wait("screen "+string(want), func() bool { return r.screenID() == want })
}

// closeCase holds the tamper switch low and waits for the attract screen:
// the fake pin reads high (open) once pulled up, as a real switch reads
// with the case open, so the kiosk starts out of service.
func (r *panelRig) closeCase() {
	r.t.Helper()
	r.waitScreen(appliance.ScreenOutOfService)
	r.tamper.EdgesChan <- gpio.Low
	r.waitScreen(appliance.ScreenAttract)
}

func (r *panelRig) insert(kind readertest.Kind) {
	r.t.Helper()
	c, err := readertest.NewCard(readertest.TestOne)
	if err != nil {
		r.t.Fatal(err)
	}
	c.Kind = kind
	if err := r.vr.Insert(c); err != nil {
		r.t.Fatal(err)
	}
}

// waitBeeps waits until the buzzer has made beeps of these lengths (in
// panel ticks), in order, and no others.
func (r *panelRig) waitBeeps(want ...int) {
	r.t.Helper()
	var got []int
	r.wait("beeps", func() bool { got = append(got, r.buzzer.take()...); return len(got) >= len(want) })
	if fmtInts(got) != fmtInts(want) {
		r.t.Errorf("beeps %v, want %v", got, want)
	}
}

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strings.Repeat("#", n)
	}
	return strings.Join(s, " ")
}

// TestPanelFollowsKiosk walks attract → session → attract with a tamper
// in the middle: the LEDs, the buzzer, the screen and the fleet hook
// follow.
func TestPanelFollowsKiosk(t *testing.T) {
	r := newPanelRig(t, nil)
	// The fake switch reads open once pulled up: out of service at start.
	r.waitScreen(appliance.ScreenOutOfService)
	r.waitLEDs("001")
	r.waitLEDs("000") // blinking
	r.closeCase()
	r.waitLEDs("100")

	r.insert(readertest.NHI)
	r.waitScreen(appliance.ScreenMenu)
	r.waitBeeps(2)
	r.waitLEDs("010")
	r.waitLEDs("000") // blinking

	r.tamper.EdgesChan <- gpio.High // the case opens mid-session
	r.waitScreen(appliance.ScreenOutOfService)
	r.mu.Lock()
	inSession := r.state.Session
	r.mu.Unlock()
	if inSession {
		t.Fatal("the session survives the case opening")
	}
	r.waitLEDs("001")
	r.vr.Remove()
	r.waitBeeps(2, 2)
	r.waitScreen(appliance.ScreenOutOfService)

	r.tamper.EdgesChan <- gpio.Low
	r.waitScreen(appliance.ScreenAttract)
	r.waitLEDs("100")
	r.mu.Lock()
	hook := append([]bool(nil), r.tamperHook...)
	r.mu.Unlock()
	if got, want := fmtBools(hook), "open closed open closed"; got != want {
		t.Errorf("OnTamper hook saw %s, want %s", got, want)
	}
}

func fmtBools(v []bool) string {
	s := make([]string, len(v))
	for i, b := range v {
		s[i] = map[bool]string{true: "open", false: "closed"}[b]
	}
	return strings.Join(s, " ")
}

// TestPanelReaderMissing: without a card reader the fault LED is on, and
// ready again once one is plugged in.
func TestPanelReaderMissing(t *testing.T) {
	r := newPanelRig(t, nil)
	r.closeCase()
	r.waitLEDs("100")
	r.vr.Detach()
	r.waitLEDs("001")
	r.vr.Attach()
	r.waitLEDs("100")
}

// TestPanelCardErrorBeeps: a card that cannot be read beeps long after the
// insertion's beep.
func TestPanelCardErrorBeeps(t *testing.T) {
	r := newPanelRig(t, nil)
	r.closeCase()
	r.insert(readertest.Mute)
	r.waitScreen(appliance.ScreenCardError)
	var got []int
	r.wait("a long beep", func() bool {
		got = append(got, r.buzzer.take()...)
		return len(got) > 0 && got[len(got)-1] >= 8
	})
}

func TestLEDStatus(t *testing.T) {
	tests := []struct {
		name   string
		state  appliance.State
		reader bool
		want   panel.Status
	}{
		{"attract", appliance.State{Screen: appliance.ScreenAttract}, true, panel.StatusReady},
		{"session", appliance.State{Screen: appliance.ScreenMenu, Session: true}, true, panel.StatusBusy},
		{"removed screen", appliance.State{Screen: appliance.ScreenRemoved}, true, panel.StatusReady},
		{"no reader", appliance.State{Screen: appliance.ScreenAttract}, false, panel.StatusFault},
		{"out of service", appliance.State{Screen: appliance.ScreenOutOfService}, true, panel.StatusOutOfService},
		{"out of service without reader", appliance.State{Screen: appliance.ScreenOutOfService}, false, panel.StatusOutOfService},
		{"out of service: no reader", appliance.State{Screen: appliance.ScreenOutOfService, Hardware: appliance.Hardware{NoReader: true}}, false, panel.StatusFault},
		{"out of service: no touch", appliance.State{Screen: appliance.ScreenOutOfService, Hardware: appliance.Hardware{NoTouch: true}}, true, panel.StatusFault},
		{"session without touch", appliance.State{Screen: appliance.ScreenMenu, Session: true, Hardware: appliance.Hardware{NoTouch: true}}, true, panel.StatusFault},
		{"case open and no touch", appliance.State{Screen: appliance.ScreenOutOfService, Closed: true, Hardware: appliance.Hardware{NoTouch: true}}, true, panel.StatusOutOfService},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ledStatus(tt.state, tt.reader); got != tt.want {
				t.Errorf("ledStatus(%+v, %v) = %v, want %v", tt.state, tt.reader, got, tt.want)
			}
		})
	}
}

// fakeBacklight is a /sys/class/backlight device in a temp dir.
func fakeBacklight(t *testing.T) (*panel.Backlight, func() string) {
	root := t.TempDir()
	dir := filepath.Join(root, "class", "backlight", "rpi_backlight")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, v := range map[string]string{"max_brightness": "255\n", "brightness": "0\n"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bl, err := panel.OpenBacklight(root, "rpi_backlight")
	if err != nil {
		t.Fatal(err)
	}
	return bl, func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "brightness"))
		return strings.TrimSpace(string(b))
	}
}

// TestBacklightDimWake: the idle attract screen dims; presence, a touch and
// a card wake it; a session never dims.
func TestBacklightDimWake(t *testing.T) {
	bl, brightness := fakeBacklight(t)
	r := newPanelRig(t, bl)
	r.closeCase()
	r.wait("full brightness at start", func() bool { return brightness() == "255" })
	dim := func() {
		t.Helper()
		r.advance(dimAfter + time.Second)
		r.kp.checkDim()
		r.wait("dimmed", func() bool { return brightness() == "51" })
	}
	dim()
	r.presence.EdgesChan <- gpio.High
	r.wait("woken by presence", func() bool { return brightness() == "255" })
	dim()
	r.screen.Inject(display.Event{Kind: display.PointerDown, X: 5, Y: 5})
	r.wait("woken by a touch", func() bool { return brightness() == "255" })
	dim()
	r.insert(readertest.NHI)
	r.wait("woken by a card", func() bool { return brightness() == "255" })
	r.waitScreen(appliance.ScreenMenu)
	r.advance(10 * dimAfter)
	r.kp.checkDim()
	if got := brightness(); got != "255" {
		t.Errorf("brightness in a session after %v = %s, want 255", 10*dimAfter, got)
	}
}

// TestOpenPanel: with nothing configured the panel opens as a no-op (this
// machine has no GPIO); a configured pin that is missing stops the kiosk
// with exit status 125, naming the field.
func TestOpenPanel(t *testing.T) {
	cfg := config.Default()
	kp, err := openPanel(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("openPanel(no panel) = %v", err)
	}
	if kp.p.Fitted() || kp.bl != nil {
		t.Errorf("openPanel(no panel) fitted something")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := kp.Run(ctx); err != nil {
		t.Errorf("Run of an empty panel = %v", err)
	}

	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	var stdout, stderr bytes.Buffer
	err = run([]string{"-demo", "-set", "display.backend=headless", "-set", "panel.led_ready=GPIO4", "-set", "panel.tamper=GPIO27"}, &stdout, &stderr)
	if got := exitCode(err); got != exitNoRestart {
		t.Fatalf("run with a missing pin: exit %d (%v), want %d", got, err, exitNoRestart)
	}
	for _, want := range []string{"panel.led_ready", "panel.tamper", "GPIO4"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
