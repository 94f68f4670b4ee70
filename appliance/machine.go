package appliance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"
)

// ScreenID names a screen of the wizard. Screens are drawn from the
// machine's state by screens.go; tests read Screen to follow the flow.
type ScreenID string

// Screens.
const (
	ScreenAttract      ScreenID = "attract"
	ScreenReading      ScreenID = "reading"
	ScreenCardError    ScreenID = "card_error"
	ScreenMenu         ScreenID = "menu"
	ScreenTerms        ScreenID = "terms"
	ScreenCard         ScreenID = "card"
	ScreenHousehold    ScreenID = "household"
	ScreenAddress      ScreenID = "address"
	ScreenPassword     ScreenID = "password"
	ScreenContact      ScreenID = "contact"
	ScreenReview       ScreenID = "review"
	ScreenBusy         ScreenID = "busy"
	ScreenReceipt      ScreenID = "receipt"
	ScreenVerify       ScreenID = "verify"
	ScreenResend       ScreenID = "resend"
	ScreenForgot       ScreenID = "forgot"
	ScreenReset        ScreenID = "reset"
	ScreenDelete       ScreenID = "delete"
	ScreenResult       ScreenID = "result"
	ScreenError        ScreenID = "error"
	ScreenHelp         ScreenID = "help"
	ScreenRemoved      ScreenID = "removed"
	ScreenOutOfService ScreenID = "out_of_service"
)

// Options configure a Machine.
type Options struct {
	// Lang is the language the attract screen starts in ("zh-TW" or "en").
	Lang string
	// IdleTimeout without a touch shows the idle warning, which counts
	// down WarningCountdown before the session is wiped. RemovedScreen is
	// how long "your card was removed" stays up; MaxDuration ends any
	// session.
	IdleTimeout, WarningCountdown, RemovedScreen, MaxDuration time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Log receives one line per step and error, never personal data; nil
	// discards.
	Log *slog.Logger
	// NewID returns a fresh random id for sessions and idempotency keys;
	// nil uses crypto/rand.
	NewID func() string

	Card     CardReader
	CardKey  CardErrorKey
	Upstream Upstream
}

// Machine is the wizard's session state machine. It is pure: Handle
// changes its state and returns jobs (upstream and card calls) for the
// caller to run; their results come back as events. It is not safe for
// concurrent use: one goroutine (Run, or a test) owns it.
type Machine struct {
	opt         Options
	screen      ScreenID
	lang        string
	sess        *session
	counts      SessionCounts
	terms       map[string]Terms // by language; public text, kept across sessions
	divisions   []Division
	maintenance bool
	tampered    bool // the case is open (Tamper)
	lastTouch   time.Time
	warnSince   time.Time // zero: no idle warning
	removedAt   time.Time
	// later holds jobs queued while handling an event outside the
	// handler's own return (the logout when a session ends).
	later []Job
}

// Job is work Handle asks for: it blocks (card or upstream I/O) and returns
// the event that reports its result. ctx ends when the session that asked
// for it ends.
type Job func(ctx context.Context) Event

// NewMachine returns a machine on the attract screen, with the built-in
// rules of the service and division list until the upstream's arrive.
func NewMachine(opt Options) *Machine {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.NewID == nil {
		opt.NewID = randomID
	}
	if opt.CardKey == nil {
		opt.CardKey = func(error) string { return "card.error.unknown" }
	}
	if opt.Lang == "" {
		opt.Lang = LangZhTW
	}
	return &Machine{opt: opt, screen: ScreenAttract, lang: opt.Lang,
		terms: map[string]Terms{}, divisions: builtinDivisions}
}

// Languages the wizard speaks.
const (
	LangZhTW = "zh-TW"
	LangEn   = "en"
)

func randomID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Screen returns the screen being shown.
func (m *Machine) Screen() ScreenID { return m.screen }

// Lang returns the language being shown.
func (m *Machine) Lang() string { return m.lang }

// SessionID returns the current session's id, or "" between sessions.
func (m *Machine) SessionID() string {
	if m.sess == nil {
		return ""
	}
	return m.sess.id
}

// Warning reports whether the idle warning is up, and the whole seconds
// left on its countdown.
func (m *Machine) Warning() (on bool, secondsLeft int) {
	if m.warnSince.IsZero() {
		return false, 0
	}
	left := m.opt.WarningCountdown - m.opt.Now().Sub(m.warnSince)
	return true, int((left + time.Second - 1) / time.Second)
}

// Start returns the jobs to run when the kiosk starts: loading the
// upstream's division list (the built-in one serves until it arrives).
func (m *Machine) Start() []Job { return []Job{m.loadDivisions()} }

// Handle applies one event and returns the jobs it asks for.
func (m *Machine) Handle(ev Event) []Job {
	jobs := m.handle(ev)
	if _, ok := ev.(Tick); ok {
		jobs = append(jobs, m.pollBinding()...)
	}
	if len(m.later) > 0 {
		jobs = append(jobs, m.later...)
		m.later = nil
	}
	return jobs
}

func (m *Machine) handle(ev Event) []Job {
	switch ev := ev.(type) {
	case CardInserted:
		return m.cardInserted()
	case CardRemoved:
		m.cardRemoved()
	case Tick:
		m.tick()
	case Maintenance:
		m.setMaintenance(ev.On)
	case Tamper:
		m.setTamper(ev.Open)
	case DefaultLanguage:
		if ev.Lang == LangZhTW || ev.Lang == LangEn {
			m.opt.Lang = ev.Lang
			if m.sess == nil && m.screen != ScreenHelp {
				m.lang = ev.Lang
			}
		}
	case Tap:
		if m.touched(ev.ID) {
			return m.tap(ev.ID)
		}
	case Key:
		if m.touched("") {
			m.key(ev.Text)
		}
	case SetField:
		if m.touched("") {
			m.setField(ev.Field, ev.Value)
		} else {
			zero(ev.Value)
		}
	case ScrolledToEnd:
		if m.touched("") {
			m.scrolledToEnd()
		}
	case result:
		if ev.session == "" || (m.sess != nil && m.sess.id == ev.session) {
			return ev.apply(m)
		}
		if ev.discard != nil {
			ev.discard()
		}
	}
	return nil
}

// touched notes a touch (tap id, or "" for typing and scrolling) and
// reports whether the screen under the idle warning should handle it:
// while the warning is up only its "continue" button and the language
// switch work.
func (m *Machine) touched(id string) bool {
	m.lastTouch = m.opt.Now()
	if m.warnSince.IsZero() {
		return true
	}
	switch id {
	case IDContinue:
		m.warnSince = time.Time{}
		m.opt.Log.Info("idle warning dismissed", "session", m.SessionID(), "step", string(m.screen))
		return false
	case IDLangZh, IDLangEn:
		return true
	}
	return false
}

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
	// While a binding code is up the person is busy with their phone; the
	// code's own 5 minutes bound the wait (then the idle timer runs).
	if now.Sub(m.lastTouch) >= m.opt.IdleTimeout && m.screen != ScreenBusy && m.screen != ScreenReading && m.screen != ScreenBind {
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
	case !on && !m.tampered && m.screen == ScreenOutOfService:
		m.goTo(ScreenAttract)
	}
}

// endSession wipes the session's personal data and forgets the session.
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
	m.endAccount(why)
	m.sess.wipe()
	m.sess = nil
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

// goTo shows screen s, focusing its first field.
func (m *Machine) goTo(s ScreenID) {
	m.screen = s
	if m.sess != nil {
		m.sess.focus = ""
		if fs := screenFields[s]; len(fs) > 0 {
			m.sess.focus = fs[0]
		}
		m.sess.page = 0
	}
	m.opt.Log.Info("step", "session", m.SessionID(), "step", string(s))
}
