package appliance

// State is what the kiosk shows, for the parts outside the screen that
// follow it (the panel's LEDs and buzzer, the backlight). It holds no
// personal data.
type State struct {
	// Screen is the screen being shown.
	Screen ScreenID
	// Session is set while a person's session runs.
	Session bool
	// Hardware is the kiosk's own devices the wizard knows to be missing.
	Hardware Hardware
	// Closed is set in maintenance mode and while the case is open.
	Closed bool
}

// Observe adds f, called with the current state at once and then after
// every event that changes it. Call it before Run, on the goroutine that
// made the kiosk; f then runs on the display's goroutine and must not
// block.
func (k *Kiosk) Observe(f func(State)) {
	k.observers = append(k.observers, f)
	f(k.state())
}

func (k *Kiosk) state() State {
	return State{Screen: k.m.Screen(), Session: k.m.SessionID() != "", Hardware: k.m.hw,
		Closed: k.m.maintenance || k.m.tampered}
}

// notify tells the observers when the state changed since they last heard.
func (k *Kiosk) notify() {
	s := k.state()
	if s == k.observed {
		return
	}
	k.observed = s
	for _, f := range k.observers {
		f(s)
	}
}
