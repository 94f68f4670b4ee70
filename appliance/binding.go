package appliance

import (
	"context"
	"time"
)

// Screens of the mobile device binding (行動裝置認證).
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

var bindingScreens = map[ScreenID]screenSpec{
	// While the code is up the person is busy with their phone; the
	// code's own 5 minutes bound the wait (then the idle timer runs).
	ScreenBind:        {noIdle: true},
	ScreenBindExpired: {},
	ScreenLinked:      {},
}

// bindWait is how long one status request waits at the upstream for the
// phone (the client keeps it below its request timeout); pollRetry how
// long to wait after a failed one; bindGrace how long past its countdown
// a code stays up when the upstream never says it expired.
const (
	bindWait  = 25 * time.Second
	pollRetry = 2 * time.Second
	bindGrace = 30 * time.Second
)

// binding links a mobile device to the account: a one-time code shown on
// screen (ViaScreen) or sent by SMS (ViaSMS), which the phone presents;
// the kiosk long-polls the upstream until it is linked or expired.
type binding struct {
	via  string
	from ScreenID // where it was started (the account menu)
	code *shownCode
	// linked is the name of the device just linked (shown, never logged).
	linked string
}

// shownCode is the binding on screen.
type shownCode struct {
	b        Binding
	deadline time.Time // on the kiosk's clock
	polling  bool
	retryAt  time.Time
}

// newBinding returns the binding's constructor for codes sent via.
func newBinding(via string) func() flow {
	return func() flow { return &binding{via: via} }
}

func (b *binding) screens() map[ScreenID]screenSpec { return bindingScreens }

func (b *binding) start(w wizard) []Job {
	b.from = w.screen()
	return b.begin(w)
}

// begin asks the upstream for a code to show.
func (b *binding) begin(w wizard) []Job {
	b.code = nil
	w.busy("busy.bind")
	as, via := w.account(), b.via
	return []Job{w.job(func(ctx context.Context) reply {
		bd, err := as.StartBinding(ctx, via)
		return func(w wizard) []Job {
			if err != nil {
				return w.refused(err, b.from)
			}
			b.code = &shownCode{b: bd, deadline: w.now().Add(bd.ValidFor)}
			w.info("binding started", "via", via)
			w.goTo(ScreenBind)
			return nil
		}
	})}
}

func (b *binding) tap(w wizard, id string) []Job {
	switch id {
	case IDNewCode:
		if w.screen() == ScreenBindExpired {
			return b.begin(w)
		}
	case IDBack:
		b.code = nil
		w.back("")
	case IDLogout:
		w.finish()
	}
	return nil
}

// handle polls on every tick.
func (b *binding) handle(w wizard, ev Event) []Job {
	if _, ok := ev.(Tick); ok {
		return b.poll(w)
	}
	return nil
}

// poll asks the upstream whether the phone presented the code, one
// request at a time while the code is on screen.
func (b *binding) poll(w wizard) []Job {
	c := b.code
	if c == nil || w.screen() != ScreenBind {
		return nil
	}
	if w.now().After(c.deadline.Add(bindGrace)) {
		// The upstream never said: the code is over all the same.
		b.code = nil
		w.info("binding expired", "err_kind", "no_answer")
		w.goTo(ScreenBindExpired)
		return nil
	}
	if c.polling || w.now().Before(c.retryAt) {
		return nil
	}
	c.polling = true
	as, id := w.account(), c.b.ID
	return []Job{w.job(func(ctx context.Context) reply {
		st, err := as.BindingStatus(ctx, id, bindWait)
		return func(w wizard) []Job {
			if b.code != c {
				return nil // gone, or a new code
			}
			c.polling = false
			if err != nil {
				if errorKind(err) == KindUnauthorized {
					return w.refused(err, ScreenBind)
				}
				c.retryAt = w.now().Add(pollRetry)
				w.info("binding status failed", "err_kind", errorKind(err))
				return nil
			}
			b.status(w, st)
			return nil
		}
	})}
}

func (b *binding) status(w wizard, st BindingStatus) {
	switch st.Status {
	case BindingLinked:
		b.code, b.linked = nil, st.Device.Name
		w.info("device linked")
		if w.screen() == ScreenBind {
			w.goTo(ScreenLinked)
		}
	case BindingExpired:
		b.code = nil
		w.info("binding expired")
		if w.screen() == ScreenBind {
			w.goTo(ScreenBindExpired)
		}
	}
}
