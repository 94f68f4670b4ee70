package appliance

import (
	"context"
	"time"
)

// Binding is a started mobile device binding (行動裝置認證): the one-time
// code the kiosk shows and how long it is valid. ValidFor is measured by
// the adapter when the answer arrived, so the countdown does not depend
// on the upstream's clock agreeing with the kiosk's.
type Binding struct {
	ID       string
	Code     string // 8 digits; empty when sent by SMS
	ValidFor time.Duration
	Via      string
	// SentTo is the masked mobile number the SMS went to ("*******678").
	SentTo string
}

// Ways the binding code reaches the phone.
const (
	ViaScreen = "screen"
	ViaSMS    = "sms"
)

// Binding states the upstream reports.
const (
	BindingWaiting = "waiting"
	BindingLinked  = "linked"
	BindingExpired = "expired"
)

// BindingStatus is where a binding stands; Device is set when linked.
type BindingStatus struct {
	Status string
	Device Device
}

// Screens of the mobile device binding.
const (
	ScreenBind        ScreenID = "bind"
	ScreenBindExpired ScreenID = "bind_expired"
	ScreenLinked      ScreenID = "linked"
)

// Widget ids of the binding.
const (
	IDBind    = "account.bind"
	IDBindSMS = "account.bind_sms"
	IDNewCode = "bind.new_code"
)

// bindWait is how long one status request waits at the upstream for the
// phone (the client keeps it below its request timeout); pollRetry how
// long to wait after a failed one.
const (
	bindWait  = 25 * time.Second
	pollRetry = 2 * time.Second
	bindGrace = 30 * time.Second
)

// binding is the binding on screen.
type binding struct {
	b        Binding
	deadline time.Time // on the kiosk's clock
	polling  bool
	retryAt  time.Time
}

// startBinding asks the upstream for a code to show.
func (m *Machine) startBinding(via string) []Job {
	s := m.sess
	s.acct.bind, s.acct.via = nil, via
	s.busyKey = "busy.bind"
	m.goTo(ScreenBusy)
	sess, as := s.id, s.acct.s
	return []Job{func(ctx context.Context) Event {
		b, err := as.StartBinding(ctx, via)
		return result{session: sess, apply: func(m *Machine) []Job {
			if m.sess.acct == nil {
				return nil
			}
			if err != nil {
				return m.accountRefused(err, ScreenAccount)
			}
			m.sess.acct.bind = &binding{b: b, deadline: m.opt.Now().Add(b.ValidFor)}
			m.opt.Log.Info("binding started", "session", sess, "via", via)
			m.goTo(ScreenBind)
			return nil
		}}
	}}
}

// pollBinding asks the upstream whether the phone presented the code,
// one request at a time while the code is on screen; Handle calls it on
// every tick.
func (m *Machine) pollBinding() []Job {
	s := m.sess
	if s == nil || s.acct == nil || s.acct.bind == nil || m.screen != ScreenBind {
		return nil
	}
	bd := s.acct.bind
	if m.opt.Now().After(bd.deadline.Add(bindGrace)) {
		// The upstream never said: the code is over all the same.
		s.acct.bind = nil
		m.opt.Log.Info("binding expired", "session", s.id, "err_kind", "no_answer")
		m.goTo(ScreenBindExpired)
		return nil
	}
	if bd.polling || m.opt.Now().Before(bd.retryAt) {
		return nil
	}
	bd.polling = true
	sess, as, id := s.id, s.acct.s, bd.b.ID
	return []Job{func(ctx context.Context) Event {
		st, err := as.BindingStatus(ctx, id, bindWait)
		return result{session: sess, apply: func(m *Machine) []Job {
			a := m.sess.acct
			if a == nil || a.bind == nil || a.bind.b.ID != id {
				return nil
			}
			a.bind.polling = false
			if err != nil {
				if k := errorKind(err); k == KindUnauthorized {
					return m.accountRefused(err, ScreenBind)
				}
				a.bind.retryAt = m.opt.Now().Add(pollRetry)
				m.opt.Log.Info("binding status failed", "session", sess, "err_kind", errorKind(err))
				return nil
			}
			m.bindingStatus(st)
			return nil
		}}
	}}
}

func (m *Machine) bindingStatus(st BindingStatus) {
	a := m.sess.acct
	switch st.Status {
	case BindingLinked:
		a.bind, a.linked = nil, st.Device.Name
		m.opt.Log.Info("device linked", "session", m.sess.id)
		if m.screen == ScreenBind {
			m.goTo(ScreenLinked)
		}
	case BindingExpired:
		a.bind = nil
		m.opt.Log.Info("binding expired", "session", m.sess.id)
		if m.screen == ScreenBind {
			m.goTo(ScreenBindExpired)
		}
	}
}

// tapBinding handles the binding's screens; it reports whether it did.
func (m *Machine) tapBinding(id string) ([]Job, bool) {
	switch m.screen {
	case ScreenBind, ScreenBindExpired, ScreenLinked:
	default:
		return nil, false
	}
	switch id {
	case IDNewCode:
		if m.screen == ScreenBindExpired {
			return m.startBinding(m.sess.acct.via), true
		}
	case IDBack:
		m.sess.acct.bind = nil
		m.toAccount("")
	case IDLogout:
		m.finish()
	}
	return nil, true
}
