package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/panel"
	"github.com/nhikiosk/nhikiosk/reader"
)

// dimAfter is how long the attract screen stays bright with no touch, no
// one in front of it (presence sensor) and no card before the backlight
// dims (issue 7). A minute outlasts someone reading the attract screen
// before touching it, and halves the panel's on-time on a quiet day.
const dimAfter = time.Minute

// dimCheck is how often the attract screen's idle time is looked at.
const dimCheck = time.Second

// kioskPanel connects the panel (LEDs, buzzer, presence sensor, tamper
// switch) and the backlight to the wizard (issue 7):
//   - LEDs: ready on the attract screen, busy in a session, fault without
//     a card reader or touch device, out-of-service (fault blinking) in
//     maintenance or with the case open;
//   - buzzer: card inserted, card removed, card read error;
//   - backlight: dim after dimAfter on the attract screen, wake on a
//     touch, on presence and when the screen changes;
//   - tamper: the case opened is posted to the wizard as appliance.Tamper
//     (it wipes the session and shows out-of-service until closed), and
//     told to the OnTamper hooks (the fleet agent).
//
// Every part is optional; with nothing fitted it does nothing.
type kioskPanel struct {
	p   *panel.Panel
	bl  *panel.Backlight
	log *slog.Logger
	now func() time.Time
	// tamperc wakes the relay that posts the switch's latest level.
	tamperc chan struct{}

	mu         sync.Mutex
	post       func(appliance.Event)
	state      appliance.State
	readers    int       // card readers attached
	lastActive time.Time // last touch, presence, card or screen change
	dimmed     bool
	tamperOpen bool
	hooks      []func(open bool)
	audio      *kioskAudio // tactile keys and the jack go there
}

// key takes a tactile key from the panel: someone is at the kiosk.
func (kp *kioskPanel) key(k panel.Key, held bool) {
	kp.active()
	kp.mu.Lock()
	a := kp.audio
	kp.mu.Unlock()
	a.key(k, held)
}

// headphones takes the panel's headphone jack switch.
func (kp *kioskPanel) headphones(in bool) {
	kp.mu.Lock()
	a := kp.audio
	kp.mu.Unlock()
	a.headphones(in)
}

// attachAudio sends the panel's tactile keys and jack to a.
func (kp *kioskPanel) attachAudio(a *kioskAudio) {
	kp.mu.Lock()
	kp.audio = a
	kp.mu.Unlock()
}

// openPanel opens the panel's pins from cfg.Panel and the backlight from
// cfg.Display.Backlight. Unconfigured parts are absent (an empty config
// opens nothing, so -demo has no panel unless one is configured); a
// configured pin or backlight this board lacks is an exitNoRestart error.
func openPanel(cfg config.Config, log *slog.Logger) (*kioskPanel, error) {
	pins, err := panel.Open(cfg.Panel)
	if err != nil {
		return nil, &exitError{exitNoRestart, fmt.Errorf("open panel: %w", err)}
	}
	bl, err := panel.OpenBacklight("/sys", cfg.Display.Backlight)
	if err != nil {
		return nil, &exitError{exitNoRestart, fmt.Errorf("display.backlight: %w", err)}
	}
	return newKioskPanel(pins, bl, log, time.Now), nil
}

// newKioskPanel returns the panel over pins and bl (nil: no backlight).
func newKioskPanel(pins panel.Pins, bl *panel.Backlight, log *slog.Logger, now func() time.Time) *kioskPanel {
	kp := &kioskPanel{bl: bl, log: log, now: now, lastActive: now(), tamperc: make(chan struct{}, 1)}
	kp.p = panel.New(pins, panel.Callbacks{Presence: kp.active, Tamper: kp.tamper, Key: kp.key, Headphones: kp.headphones}, log)
	kp.setStatus()
	return kp
}

// wrap returns the reader and screen the wizard should use: they pass
// card events and touches through the panel on their way.
func (kp *kioskPanel) wrap(d reader.Device, s display.Screen) (reader.Device, display.Screen) {
	if kp.p.Fitted() {
		d = &panelReader{Device: d, kp: kp}
	}
	if kp.bl != nil {
		s = &touchScreen{Screen: s, touched: kp.active}
	}
	return d, s
}

// attach follows k's state and posts tamper events to it. Call it before
// k runs.
func (kp *kioskPanel) attach(k *appliance.Kiosk) {
	kp.mu.Lock()
	kp.post = k.Post
	kp.mu.Unlock()
	k.Observe(kp.observe)
}

// OnTamper adds f, called with true when the case opens and false when it
// closes again (the fleet agent reports it). f runs on the panel's
// goroutine and must not block. Call it before Run.
func (kp *kioskPanel) OnTamper(f func(open bool)) {
	kp.mu.Lock()
	kp.hooks = append(kp.hooks, f)
	kp.mu.Unlock()
}

// Run drives the panel and the backlight until ctx ends.
func (kp *kioskPanel) Run(ctx context.Context) error {
	go kp.relayTamper(ctx)
	if kp.bl == nil {
		return kp.p.Run(ctx)
	}
	kp.mu.Lock()
	kp.wakeLocked(true) // a previous run may have left it dim
	kp.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- kp.p.Run(ctx) }()
	t := time.NewTicker(dimCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return <-done
		case <-t.C:
			kp.checkDim()
		}
	}
}

// observe takes a new state of the wizard.
func (kp *kioskPanel) observe(s appliance.State) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	prev := kp.state
	kp.state = s
	if s.Screen == appliance.ScreenCardError && prev.Screen != appliance.ScreenCardError {
		kp.p.Play(panel.SoundError)
	}
	if s.Screen != prev.Screen {
		kp.activeLocked()
	}
	kp.setStatusLocked()
}

// cardEvent takes an event of the card reader on its way to the wizard.
func (kp *kioskPanel) cardEvent(ev reader.Event) {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	switch ev.Kind {
	case reader.ReaderAttached:
		kp.readers++
	case reader.ReaderDetached:
		kp.readers = max(0, kp.readers-1)
	case reader.CardInserted:
		kp.p.Play(panel.SoundCardInserted)
	case reader.CardRemoved:
		kp.p.Play(panel.SoundCardRemoved)
	}
	kp.activeLocked()
	kp.setStatusLocked()
}

// ledStatus is what the LEDs show for the wizard's state s: out of
// service (fault blinking) in maintenance or with the case open, fault
// (steady) while the kiosk misses a reader or touch device, whether the
// wizard shows out-of-service for it or a session still runs.
func ledStatus(s appliance.State, reader bool) panel.Status {
	switch {
	case s.Screen == appliance.ScreenOutOfService && (s.Closed || !s.Hardware.Missing()):
		return panel.StatusOutOfService
	case !reader || s.Hardware.Missing():
		return panel.StatusFault
	case s.Session:
		return panel.StatusBusy
	}
	return panel.StatusReady
}

func (kp *kioskPanel) setStatus() {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	kp.setStatusLocked()
}

func (kp *kioskPanel) setStatusLocked() {
	kp.p.SetStatus(ledStatus(kp.state, kp.readers > 0))
}

// tamper is the switch's callback: the wizard hears it through the
// relay, the hooks at once.
func (kp *kioskPanel) tamper(open bool) {
	kp.mu.Lock()
	kp.tamperOpen = open
	hooks := kp.hooks
	kp.mu.Unlock()
	select {
	case kp.tamperc <- struct{}{}:
	default: // the relay has not posted the last change yet: it will read this one
	}
	for _, f := range hooks {
		f(open)
	}
}

// relayTamper posts the switch's latest level to the wizard each time it
// changes, so the panel's goroutine never waits on the UI loop and the
// last level always arrives.
func (kp *kioskPanel) relayTamper(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-kp.tamperc:
		}
		kp.mu.Lock()
		post, open := kp.post, kp.tamperOpen
		kp.mu.Unlock()
		if post != nil {
			post(appliance.Tamper{Open: open})
		}
	}
}

// active notes a touch or someone in front: the backlight wakes.
func (kp *kioskPanel) active() {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	kp.activeLocked()
}

func (kp *kioskPanel) activeLocked() {
	kp.lastActive = kp.now()
	kp.wakeLocked(false)
}

func (kp *kioskPanel) wakeLocked(force bool) {
	if kp.bl == nil || (!kp.dimmed && !force) {
		return
	}
	kp.dimmed = false
	if err := kp.bl.Wake(); err != nil {
		kp.log.Warn("backlight wake failed", "err", err)
	}
}

// checkDim dims the backlight once the attract screen has been idle for
// dimAfter.
func (kp *kioskPanel) checkDim() {
	kp.mu.Lock()
	defer kp.mu.Unlock()
	if kp.bl == nil || kp.dimmed || kp.state.Screen != appliance.ScreenAttract || kp.now().Sub(kp.lastActive) < dimAfter {
		return
	}
	kp.dimmed = true
	if err := kp.bl.Dim(); err != nil {
		kp.log.Warn("backlight dim failed", "err", err)
	}
}
