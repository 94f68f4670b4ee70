package appliance

import "time"

// A session's life, the same whatever the service: the card comes in, the
// person is timed, and the card going, the idle timeout, the maximum
// duration, finishing or the case opening end it and wipe it.

func (m *Machine) cardInserted() []Job {
	if m.sess != nil || m.outOfService() {
		return nil
	}
	switch m.screen {
	case ScreenAttract, ScreenHelp, ScreenRemoved:
	default:
		return nil
	}
	now := m.opt.Now()
	m.sess = newSession(m.opt.NewID(), now)
	m.lastTouch = now
	m.warnSince = time.Time{}
	m.opt.Log.Info("session started", "session", m.sess.id)
	m.countsToday(now).Started++
	m.goTo(ScreenReading)
	return []Job{m.readCard()}
}

func (m *Machine) cardRemoved() {
	if m.sess == nil {
		if m.screen != ScreenAttract && m.screen != ScreenOutOfService && m.screen != ScreenRemoved {
			m.toAttract()
		}
		return
	}
	done := m.sess.completed
	m.endSession("card_removed")
	if done {
		m.toAttract()
		return
	}
	m.removedAt = m.opt.Now()
	m.goTo(ScreenRemoved)
}

// tick runs the timers: idle warning, its countdown, the removed screen,
// the session's maximum duration.
func (m *Machine) tick() {
	now := m.opt.Now()
	switch {
	case m.screen == ScreenRemoved:
		if now.Sub(m.removedAt) >= m.opt.RemovedScreen {
			m.toAttract()
		}
		return
	case m.screen == ScreenAttract || m.screen == ScreenOutOfService:
		return
	}
	if m.sess != nil && now.Sub(m.sess.started) >= m.opt.MaxDuration {
		m.endSession("max_duration")
		m.toAttract()
		return
	}
	if !m.warnSince.IsZero() {
		if now.Sub(m.warnSince) >= m.opt.WarningCountdown {
			m.endSession("idle_timeout")
			m.toAttract()
		}
		return
	}
	if now.Sub(m.lastTouch) >= m.opt.IdleTimeout && !m.spec().noIdle {
		m.warnSince = now
		m.opt.Log.Info("idle warning", "session", m.SessionID(), "step", string(m.screen))
	}
}

func (m *Machine) setMaintenance(on bool) {
	m.maintenance = on
	m.opt.Log.Info("maintenance", "on", on)
	switch {
	case on && m.sess == nil && (m.screen == ScreenAttract || m.screen == ScreenHelp):
		m.goTo(ScreenOutOfService)
	case !on && !m.outOfService() && m.screen == ScreenOutOfService:
		m.goTo(ScreenAttract)
	}
}

// endSession wipes the session's personal data, logs its account out at
// the upstream, and forgets the session with its flows.
func (m *Machine) endSession(why string) {
	m.warnSince = time.Time{}
	if m.sess == nil {
		return
	}
	m.opt.Log.Info("session ended", "session", m.sess.id, "step", string(m.screen), "reason", why)
	c := m.countsToday(m.opt.Now())
	if why == "finished" || m.sess.completed {
		c.Completed++
	} else {
		c.Aborted[why]++
	}
	if as := m.sess.account; as != nil {
		// Handle hands the job out with the event's others.
		m.later = append(m.later, logoutJob(as, why))
		m.sess.account = nil
	}
	m.sess.wipe()
	m.sess = nil
	m.divisionsBetween()
}

// finish ends a session whose service is done: the data is wiped at once;
// the attract screen follows when the card leaves.
func (m *Machine) finish() {
	m.endSession("finished")
	m.toAttract()
}

// toAttract shows the attract screen (or out-of-service) in the kiosk's
// own language.
func (m *Machine) toAttract() {
	m.lang = m.opt.Lang
	m.warnSince = time.Time{}
	if m.outOfService() {
		m.goTo(ScreenOutOfService)
		return
	}
	m.goTo(ScreenAttract)
}

// goTo shows screen s, focusing its first field. A flow's screen makes
// that flow the current one again (session.showing).
func (m *Machine) goTo(s ScreenID) {
	m.screen = s
	if m.sess != nil {
		m.sess.showing(s)
		m.sess.focus = ""
		if fs := m.spec().fields; len(fs) > 0 {
			m.sess.focus = fs[0]
		}
	}
	m.opt.Log.Info("step", "session", m.SessionID(), "step", string(s))
}
