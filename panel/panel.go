// Package panel owns the kiosk's physical I/O besides the screen and the
// card reader, through periph.io: the status LEDs (ready, busy, fault and
// their patterns), the buzzer (short patterns on card events), the
// presence sensor (someone is in front: wake the screen), the tamper
// switch (the case was opened) and the display's backlight
// (/sys/class/backlight: dim on the attract screen, wake on touch or
// presence).
//
// Every part is optional: a part whose pin is not configured is simply
// absent and its methods do nothing. The package reports what it senses
// through callbacks the appliance sets; it must not import the appliance,
// decide what a tamper means for a session, or block its callers.
package panel

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Status is what the LEDs show.
type Status int

// Statuses, each with its LED pattern.
const (
	StatusOff          Status = iota // all LEDs off
	StatusReady                      // ready LED on: insert your card
	StatusBusy                       // busy LED blinking at 2 Hz: working, do not remove the card
	StatusFault                      // fault LED on: something needs staff
	StatusOutOfService               // fault LED blinking at 4 Hz: tampered or out of service
)

// Sound is a buzzer pattern.
type Sound int

// Sounds.
const (
	SoundCardInserted Sound = iota + 1 // one short beep
	SoundCardRemoved                   // two short beeps
	SoundError                         // one long beep
)

// Tick is the resolution of LED and buzzer patterns.
const Tick = 50 * time.Millisecond

// Pins are the fitted parts; nil means not fitted. Real pins come from
// Open; tests use periph's gpiotest.Pin.
type Pins struct {
	LEDReady, LEDBusy, LEDFault gpio.PinOut
	Buzzer                      gpio.PinOut
	Presence                    gpio.PinIn // active high (PIR modules)
	Tamper                      gpio.PinIn // pulled up; the closed case holds it low
	// The tactile keys (keys.go), buttons to ground, and the headphone
	// jack's detect switch, closed to ground while a plug is in.
	KeyUp, KeyDown, KeySelect, KeyBack, KeyHelp gpio.PinIn
	Headphones                                  gpio.PinIn
}

// Callbacks are how the panel reports what it senses. They run on the
// panel's own goroutines and must not block for long; nil callbacks are
// not called.
type Callbacks struct {
	// Presence is called when someone comes in front of the kiosk.
	Presence func()
	// Tamper is called when the case is opened (true) or closed again
	// (false), and once at start if it is open then.
	Tamper func(open bool)
	// Key is called for each tactile key pressed (help: released, or held
	// HoldTime with held set).
	Key func(k Key, held bool)
	// Headphones is called when a plug goes into the headphone jack or
	// comes out, and once at start if one is in.
	Headphones func(in bool)
}

// Panel drives the outputs and watches the inputs. SetStatus and Play may
// be called from any goroutine at any time and never block.
type Panel struct {
	pins Pins
	cb   Callbacks
	log  *slog.Logger
	hold time.Duration

	mu     sync.Mutex
	status Status
	sound  []bool // buzzer pattern still to play, one entry per Tick
}

// New returns a panel over pins. log may be nil.
func New(pins Pins, cb Callbacks, log *slog.Logger) *Panel {
	if log == nil {
		log = slog.Default()
	}
	return &Panel{pins: pins, cb: cb, log: log, hold: HoldTime}
}

// Fitted reports whether any part of the panel is configured.
func (p *Panel) Fitted() bool {
	q := p.pins
	return q.LEDReady != nil || q.LEDBusy != nil || q.LEDFault != nil || q.Buzzer != nil || q.Presence != nil || q.Tamper != nil ||
		len(p.keyPins()) > 0 || q.Headphones != nil
}

// SetStatus changes the LED pattern.
func (p *Panel) SetStatus(s Status) {
	p.mu.Lock()
	p.status = s
	p.mu.Unlock()
}

// Play starts a buzzer pattern, replacing one still playing. Without a
// buzzer it does nothing.
func (p *Panel) Play(s Sound) {
	if p.pins.Buzzer == nil {
		return
	}
	p.mu.Lock()
	p.sound = append([]bool(nil), sounds[s]...)
	p.mu.Unlock()
}

var sounds = map[Sound][]bool{
	SoundCardInserted: {true, true, false},
	SoundCardRemoved:  {true, true, false, false, true, true, false},
	SoundError:        {true, true, true, true, true, true, true, true, false},
}

// Run drives the LEDs and buzzer and watches the inputs until ctx ends,
// then switches every output off. With nothing fitted it returns at once.
func (p *Panel) Run(ctx context.Context) error {
	if !p.Fitted() {
		p.log.Info("panel not fitted: no LED, buzzer, presence or tamper pin configured")
		return nil
	}
	var wg sync.WaitGroup
	if p.pins.Presence != nil {
		wg.Go(func() { p.watchPresence(ctx) })
	}
	if p.pins.Tamper != nil {
		wg.Go(func() { p.watchTamper(ctx) })
	}
	for k, pin := range p.keyPins() {
		wg.Go(func() { p.watchKey(ctx, k, pin) })
	}
	if p.pins.Headphones != nil {
		wg.Go(func() { p.watchHeadphones(ctx) })
	}
	t := time.NewTicker(Tick)
	defer t.Stop()
	for n := 0; ; n++ {
		p.frame(n)
		select {
		case <-ctx.Done():
			p.off()
			wg.Wait()
			return nil
		case <-t.C:
		}
	}
}

// frame sets the outputs for tick n.
func (p *Panel) frame(n int) {
	p.mu.Lock()
	s := p.status
	beep := false
	if len(p.sound) > 0 {
		beep, p.sound = p.sound[0], p.sound[1:]
	}
	p.mu.Unlock()
	ready, busy, fault := leds(s, n)
	p.set(p.pins.LEDReady, ready)
	p.set(p.pins.LEDBusy, busy)
	p.set(p.pins.LEDFault, fault)
	p.set(p.pins.Buzzer, beep)
}

// leds returns the three LEDs of status s at tick n.
func leds(s Status, n int) (ready, busy, fault bool) {
	switch s {
	case StatusReady:
		return true, false, false
	case StatusBusy:
		return false, n/5%2 == 0, false // 250 ms on, 250 ms off
	case StatusFault:
		return false, false, true
	case StatusOutOfService:
		return false, false, n/2%2 == 0 // 100 ms on, 100 ms off
	}
	return false, false, false
}

func (p *Panel) set(pin gpio.PinOut, on bool) {
	if pin == nil {
		return
	}
	if err := pin.Out(gpio.Level(on)); err != nil {
		p.log.Warn("panel output failed", "pin", pin.Name(), "err", err)
	}
}

func (p *Panel) off() {
	for _, pin := range []gpio.PinOut{p.pins.LEDReady, p.pins.LEDBusy, p.pins.LEDFault, p.pins.Buzzer} {
		p.set(pin, false)
	}
}
