package panel

import (
	"context"
	"time"

	"periph.io/x/conn/v3/gpio"
)

// edgeWait is how long one WaitForEdge blocks before the watcher looks at
// its context again.
const edgeWait = 500 * time.Millisecond

// settle is how long a switch must keep its new level to count (debounce).
const settle = 20 * time.Millisecond

// watchPresence calls Callbacks.Presence on every rising edge of the
// presence sensor.
func (p *Panel) watchPresence(ctx context.Context) {
	pin := p.pins.Presence
	if err := pin.In(gpio.PullDown, gpio.RisingEdge); err != nil {
		p.log.Warn("presence sensor unusable", "pin", pin.Name(), "err", err)
		return
	}
	for ctx.Err() == nil {
		if pin.WaitForEdge(edgeWait) && pin.Read() == gpio.High && p.cb.Presence != nil {
			p.cb.Presence()
		}
	}
}

// watchTamper calls Callbacks.Tamper when the switch settles at a new
// level, and once at start if the case is open then.
func (p *Panel) watchTamper(ctx context.Context) {
	pin := p.pins.Tamper
	if err := pin.In(gpio.PullUp, gpio.BothEdges); err != nil {
		p.log.Warn("tamper switch unusable", "pin", pin.Name(), "err", err)
		return
	}
	open := pin.Read() == gpio.High
	if open {
		p.tamper(true)
	}
	for ctx.Err() == nil {
		if !pin.WaitForEdge(edgeWait) {
			continue
		}
		time.Sleep(settle)
		if now := pin.Read() == gpio.High; now != open {
			open = now
			p.tamper(open)
		}
	}
}

func (p *Panel) tamper(open bool) {
	p.log.Warn("tamper switch", "open", open)
	if p.cb.Tamper != nil {
		p.cb.Tamper(open)
	}
}
