package appliance

import (
	"context"
	"slices"
)

// sharedScreens are the screens the machine shows itself, the same for
// every flow: between sessions, around the card, the menu of services, and
// the waiting, result and error screens flows end on.
var sharedScreens = map[ScreenID]screenSpec{
	ScreenAttract:      {},
	ScreenReading:      {noIdle: true},
	ScreenCardError:    {},
	ScreenMenu:         {},
	ScreenBusy:         {noIdle: true},
	ScreenResult:       {},
	ScreenError:        {},
	ScreenHelp:         {},
	ScreenRemoved:      {},
	ScreenOutOfService: {},
	ScreenCheckingCard: {noIdle: true},
}

// tapShared handles a tap on one of the shared screens.
func (m *Machine) tapShared(id string) []Job {
	switch m.screen {
	case ScreenAttract:
		if id == IDHelp {
			m.goTo(ScreenHelp)
		}
	case ScreenHelp:
		if id == IDBack {
			m.helpBack()
		}
	case ScreenCardError:
		if jobs, ok := m.tapCardError(id); ok {
			return jobs
		}
		switch id {
		case IDRetry:
			m.sess.cardErrKey = ""
			m.goTo(ScreenReading)
			return []Job{m.readCard()}
		case IDHelp:
			m.goTo(ScreenHelp)
		}
	case ScreenMenu:
		return m.tapMenu(id)
	case ScreenResult:
		if id == IDFinish {
			m.finish()
		}
	case ScreenError:
		return m.tapError(id)
	}
	return nil
}

func (m *Machine) helpBack() {
	switch {
	case m.sess == nil:
		m.toAttract()
	case m.sess.cardErrKey != "":
		m.goTo(ScreenCardError)
	default:
		m.goTo(ScreenMenu)
	}
}

func (m *Machine) tapMenu(id string) []Job {
	clear(m.sess.errs)
	switch id {
	case IDCardHelp:
		m.goTo(ScreenHelp)
	case IDFinish:
		m.finish()
	default:
		if i := slices.IndexFunc(menuFlows, func(e entry) bool { return e.id == id }); i >= 0 && m.offers(menuFlows[i]) {
			return m.start(menuFlows[i])
		}
	}
	return nil
}

// tapError offers the next step after an upstream's refusal: back to the
// menu the service was started from, or another service.
func (m *Machine) tapError(id string) []Job {
	switch id {
	case IDMenu:
		m.home()
	case IDFinish:
		m.finish()
	default:
		for _, e := range m.nextSteps() {
			if e.id == id {
				m.toMenu()
				return m.start(e)
			}
		}
	}
	return nil
}

// nextSteps are the services the error screen offers after the upstream's
// refusal on it, in the menu's order.
func (m *Machine) nextSteps() []entry {
	var out []entry
	for _, e := range menuFlows {
		if slices.Contains(e.after, m.sess.errKind) && m.offers(e) {
			out = append(out, e)
		}
	}
	return out
}

// offers reports whether the upstream offers the service of e.
func (m *Machine) offers(e entry) bool { return e.needs == nil || e.needs(m.opt.Upstream) }

// start starts the service of e on top of the current flow.
func (m *Machine) start(e entry) []Job {
	f := e.new()
	m.sess.push(f, e.name)
	return f.start(m.wizard())
}

// home leaves the error screen for the menu the service was started from:
// the first flow's own menu if it has one (resumer), else the menu.
func (m *Machine) home() {
	s := m.sess
	if len(s.flows) > 0 {
		s.keep(1)
		if r, ok := s.flows[0].flow.(resumer); ok {
			r.resume(m.wizard(), "")
			return
		}
	}
	m.toMenu()
}

// toMenu goes back to the menu, ending the flows and forgetting what they
// had typed.
func (m *Machine) toMenu() {
	s := m.sess
	s.p.forget()
	clear(s.errs)
	s.keep(0)
	s.errKind, s.resultKey = "", ""
	m.goTo(ScreenMenu)
}

// readCard reads the card's profile into the session.
func (m *Machine) readCard() Job {
	sess, card, key := m.sess.id, m.opt.Card, m.opt.CardKey
	return func(ctx context.Context) Event {
		p, err := card.ReadProfile(ctx)
		return result{session: sess, discard: p.Wipe, apply: func(m *Machine) []Job {
			if m.screen != ScreenReading {
				p.Wipe()
				return nil
			}
			if err != nil {
				m.sess.cardErrKey = key(err)
				m.opt.Log.Info("card read failed", "session", sess, "err_kind", m.sess.cardErrKey)
				m.goTo(ScreenCardError)
				return nil
			}
			m.sess.p.card = p
			m.goTo(ScreenMenu)
			return nil
		}}
	}
}
