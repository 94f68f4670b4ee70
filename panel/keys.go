package panel

import (
	"context"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Key is one of the tactile keys of audio mode (issue 20, EZ Access):
// buttons wired from a GPIO to ground, pulled up.
type Key int

// Keys.
const (
	KeyUp Key = iota + 1
	KeyDown
	KeySelect
	KeyBack
	KeyHelp
)

// HoldTime is how long help is held to start audio mode.
const HoldTime = 2 * time.Second

// keyPins returns the fitted key pins by key.
func (p *Panel) keyPins() map[Key]gpio.PinIn {
	q := p.pins
	out := map[Key]gpio.PinIn{}
	for k, pin := range map[Key]gpio.PinIn{KeyUp: q.KeyUp, KeyDown: q.KeyDown, KeySelect: q.KeySelect, KeyBack: q.KeyBack, KeyHelp: q.KeyHelp} {
		if pin != nil {
			out[k] = pin
		}
	}
	return out
}

// watchKey reports presses of one key: at once, except help, which is
// reported on release, or once with held set after HoldTime.
func (p *Panel) watchKey(ctx context.Context, k Key, pin gpio.PinIn) {
	if err := pin.In(gpio.PullUp, gpio.BothEdges); err != nil {
		p.log.Warn("tactile key unusable", "pin", pin.Name(), "err", err)
		return
	}
	down := pin.Read() == gpio.Low
	var mu sync.Mutex
	var hold *time.Timer
	held := false
	for ctx.Err() == nil {
		if !pin.WaitForEdge(edgeWait) {
			continue
		}
		time.Sleep(settle)
		now := pin.Read() == gpio.Low
		if now == down {
			continue
		}
		down = now
		switch {
		case k != KeyHelp && down:
			p.key(k, false)
		case k == KeyHelp && down:
			mu.Lock()
			held = false
			hold = time.AfterFunc(p.hold, func() {
				mu.Lock()
				held = true
				mu.Unlock()
				p.key(KeyHelp, true)
			})
			mu.Unlock()
		case k == KeyHelp:
			mu.Lock()
			if hold != nil && hold.Stop() && !held {
				go p.key(KeyHelp, false)
			}
			hold = nil
			mu.Unlock()
		}
	}
}

func (p *Panel) key(k Key, held bool) {
	if p.cb.Key != nil {
		p.cb.Key(k, held)
	}
}

// watchHeadphones reports the headphone jack's detect switch: closed to
// ground (low) while a plug is in. It reports at start if one is in.
func (p *Panel) watchHeadphones(ctx context.Context) {
	pin := p.pins.Headphones
	if err := pin.In(gpio.PullUp, gpio.BothEdges); err != nil {
		p.log.Warn("headphone detect unusable", "pin", pin.Name(), "err", err)
		return
	}
	in := pin.Read() == gpio.Low
	if in && p.cb.Headphones != nil {
		p.cb.Headphones(true)
	}
	for ctx.Err() == nil {
		if !pin.WaitForEdge(edgeWait) {
			continue
		}
		time.Sleep(settle)
		if now := pin.Read() == gpio.Low; now != in {
			in = now
			if p.cb.Headphones != nil {
				p.cb.Headphones(in)
			}
		}
	}
}
