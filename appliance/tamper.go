package appliance

// Tamper reports the kiosk's case opened (Open) or closed again, from the
// panel's tamper switch (issue 7). Opening ends any session at once, wiping
// it as a card removal does, and shows out-of-service until the case is
// closed; new cards are refused meanwhile.
type Tamper struct{ Open bool }

func (Tamper) isEvent() {}

// setTamper applies a Tamper event.
func (m *Machine) setTamper(open bool) {
	if open == m.tampered {
		return
	}
	m.tampered = open
	m.opt.Log.Warn("tamper", "open", open, "session", m.SessionID(), "step", string(m.screen))
	if open {
		m.endSession("tamper")
		m.lang = m.opt.Lang
		m.goTo(ScreenOutOfService)
		return
	}
	if m.screen == ScreenOutOfService && !m.outOfService() {
		m.goTo(ScreenAttract)
	}
}

// outOfService reports whether the kiosk refuses sessions: maintenance
// mode from the fleet, the case open, the time not known, or a device of
// its own missing.
func (m *Machine) outOfService() bool {
	return m.maintenance || m.tampered || m.clockUnknown || m.hw.Missing()
}
