package appliance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"
)

// ScreenID names a screen of the wizard. A screen is the machine's, shared
// by every flow (the constants below, drawn by pages.go), or one flow's,
// declared in that flow's file. Tests read Screen to follow the flow.
type ScreenID string

// Screens the machine shows itself, whatever the flow.
const (
	ScreenAttract      ScreenID = "attract"
	ScreenReading      ScreenID = "reading"
	ScreenCardError    ScreenID = "card_error"
	ScreenMenu         ScreenID = "menu"
	ScreenBusy         ScreenID = "busy"
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
	// CardCheck has the upstream authenticate the card before the calls
	// that need proof of it (cardcheck.go); nil goes without, for unit
	// tests of the flows. cmd/kiosk always sets it.
	CardCheck CardChecker

	// ClockUnknown starts the machine without the correct time: out of
	// service, saying so, until Clock{Known: true} (issue 21).
	ClockUnknown bool
}

// Machine is the wizard's session state machine. It keeps what every
// session has in common (the card coming and going, the idle and maximum
// time, the wipe, maintenance and tamper, the language, the counts, the
// screens every flow shares) and hands the rest to the session's current
// flow (flow.go). It is pure: Handle changes its state and returns jobs
// (upstream and card calls) for the caller to run; their results come
// back as events. It is not safe for concurrent use: one goroutine (Run,
// or a test) owns it.
type Machine struct {
	opt    Options
	screen ScreenID
	lang   string
	sess   *session
	counts SessionCounts
	terms  map[string]Terms // by language; public text, kept across sessions
	// divisions is the list the pickers show; divisionsNext one that
	// arrived during a session; divisionsAt when to ask the upstream
	// again, divisionsAsking while it is asked.
	divisions       DivisionList
	divisionsNext   *DivisionList
	divisionsAt     time.Time
	divisionsAsking bool
	maintenance     bool
	tampered        bool     // the case is open (Tamper)
	hw              Hardware // devices missing (Hardware)
	lastTouch       time.Time
	warnSince       time.Time // zero: no idle warning
	removedAt       time.Time
	// later holds jobs queued while handling an event outside the
	// handler's own return (the logout when a session ends).
	later []Job

	// clockUnknown: the kiosk does not know the correct time (Clock).
	clockUnknown bool
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
	m := &Machine{opt: opt, screen: ScreenAttract, lang: opt.Lang,
		terms: map[string]Terms{}, divisions: builtinDivisions(), clockUnknown: opt.ClockUnknown}
	if m.clockUnknown {
		m.screen = ScreenOutOfService
	}
	return m
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
func (m *Machine) Start() []Job { return []Job{m.loadDivisions(false)} }

// Handle applies one event and returns the jobs it asks for.
func (m *Machine) Handle(ev Event) []Job {
	jobs := m.handle(ev)
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
		jobs := m.divisionsDue()
		m.tick()
		// The flow's own timers (a binding's poll) run after the
		// machine's, if the session is still there.
		return append(jobs, m.toFlow(ev)...)
	case Maintenance:
		m.setMaintenance(ev.On)
	case Tamper:
		m.setTamper(ev.Open)
	case Clock:
		return m.setClock(ev.Known)
	case Hardware:
		m.setHardware(ev)
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
			return m.toFlow(ev)
		}
	case result:
		if m.current(ev.session, ev.serial) {
			return ev.apply(m)
		}
		if ev.discard != nil {
			ev.discard()
		}
	}
	return nil
}

// current reports whether a job's result still has someone to apply to:
// the session that asked for it ("" for the kiosk), and the flow with that
// serial, if a flow asked (0 for the machine).
func (m *Machine) current(session string, serial int) bool {
	if session == "" {
		return true
	}
	return m.sess != nil && m.sess.id == session && (serial == 0 || m.sess.top().serial == serial)
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

// tap handles a tap on widget id: the language switch and the fields are
// the machine's on every screen; the rest is the shared screen's, or the
// current flow's.
func (m *Machine) tap(id string) []Job {
	switch id {
	case IDLangZh, IDLangEn:
		l := LangZhTW
		if id == IDLangEn {
			l = LangEn
		}
		if m.lang == l {
			return nil
		}
		m.lang = l
		return m.toFlow(langSwitched{})
	}
	if m.focusTap(id) {
		return nil
	}
	if _, ok := sharedScreens[m.screen]; ok {
		return m.tapShared(id)
	}
	if f := m.flow(); f != nil {
		return f.tap(m.wizard(), id)
	}
	return nil
}

// toFlow hands ev to the current flow, if it takes events.
func (m *Machine) toFlow(ev Event) []Job {
	if h, ok := m.flow().(handler); ok {
		return h.handle(m.wizard(), ev)
	}
	return nil
}

// flow returns the session's current flow, or nil.
func (m *Machine) flow() flow {
	if m.sess == nil {
		return nil
	}
	return m.sess.top().flow
}

// spec returns what the machine knows of the screen shown: a shared
// screen's, or the current flow's.
func (m *Machine) spec() screenSpec {
	if s, ok := sharedScreens[m.screen]; ok {
		return s
	}
	if f := m.flow(); f != nil {
		return f.screens()[m.screen]
	}
	return screenSpec{}
}
