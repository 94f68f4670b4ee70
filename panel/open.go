package panel

import (
	"errors"
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/host/v3"

	"github.com/nhikiosk/nhikiosk/config"
)

// Open initialises periph.io's host drivers and looks up the pins named in
// cfg. Parts with no name are not fitted (nil pins); a name that does not
// exist on this board is an error naming the field. Only cmd/kiosk calls
// it: everything else takes Pins.
func Open(cfg config.Panel) (Pins, error) {
	var pins Pins
	named := false
	for _, n := range []string{cfg.LEDReady, cfg.LEDBusy, cfg.LEDFault, cfg.Buzzer, cfg.Presence, cfg.Tamper,
		cfg.KeyUp, cfg.KeyDown, cfg.KeySelect, cfg.KeyBack, cfg.KeyHelp, cfg.Headphones} {
		named = named || n != ""
	}
	if !named {
		return pins, nil
	}
	if _, err := host.Init(); err != nil {
		return pins, fmt.Errorf("panel: init GPIO drivers: %w", err)
	}
	var errs []error
	look := func(field, name string) gpio.PinIO {
		if name == "" {
			return nil
		}
		p := gpioreg.ByName(name)
		if p == nil {
			errs = append(errs, fmt.Errorf("panel.%s: no GPIO named %q on this board", field, name))
		}
		return p
	}
	out := func(p gpio.PinIO) gpio.PinOut {
		if p == nil {
			return nil
		}
		return p
	}
	in := func(p gpio.PinIO) gpio.PinIn {
		if p == nil {
			return nil
		}
		return p
	}
	pins.LEDReady = out(look("led_ready", cfg.LEDReady))
	pins.LEDBusy = out(look("led_busy", cfg.LEDBusy))
	pins.LEDFault = out(look("led_fault", cfg.LEDFault))
	pins.Buzzer = out(look("buzzer", cfg.Buzzer))
	pins.Presence = in(look("presence", cfg.Presence))
	pins.Tamper = in(look("tamper", cfg.Tamper))
	pins.KeyUp = in(look("key_up", cfg.KeyUp))
	pins.KeyDown = in(look("key_down", cfg.KeyDown))
	pins.KeySelect = in(look("key_select", cfg.KeySelect))
	pins.KeyBack = in(look("key_back", cfg.KeyBack))
	pins.KeyHelp = in(look("key_help", cfg.KeyHelp))
	pins.Headphones = in(look("headphones", cfg.Headphones))
	if len(errs) > 0 {
		return Pins{}, errors.Join(errs...)
	}
	return pins, nil
}
