package appliance

import (
	"log/slog"
	"time"
)

// session is one person's visit, from card in to card out (or timeout). It
// owns the person's data; wipe zeroes it.
type session struct {
	id      string
	started time.Time
	p       *person
	// flows are the services running: the one chosen on the menu, then
	// any it started (account → binding). The last is the current one;
	// none on the shared screens between services (menu, card error).
	flows   []running
	serials int // numbers the flows started, for their jobs' results
	focus   FieldID
	// errs holds the rule or upstream error code shown under each field.
	errs map[FieldID]string
	// busyKey says what ScreenBusy waits for; cardErrKey why a card read
	// failed; errKind the upstream's answer on ScreenError; resultKey what
	// ScreenResult reports.
	busyKey, cardErrKey, errKind, resultKey string
	// showErr counts the times the machine asked for its focused field's
	// error to be brought into view (a failed "next", an upstream refusal).
	showErr int
	// completed is set once the service was done and the data wiped; the
	// session only waits for the card to leave.
	completed bool
	// account is the logged-in person's session at the upstream (nil
	// when not logged in); it is logged out when the session ends.
	account AccountSession
	// check is the card check under way, or waiting on the card error
	// screen (cardcheck.go).
	check *cardCheck
}

// running is a flow in the session's stack.
type running struct {
	flow
	name   string // for logs
	serial int    // its jobs' results apply to it only
}

func newSession(id string, now time.Time) *session {
	return &session{id: id, started: now, p: newPerson(), errs: map[FieldID]string{}}
}

// top returns the current flow (a zero running, with a nil flow, when
// none runs).
func (s *session) top() running {
	if len(s.flows) == 0 {
		return running{}
	}
	return s.flows[len(s.flows)-1]
}

// push makes f, started from the menu entry named name, the current flow.
func (s *session) push(f flow, name string) {
	s.serials++
	s.flows = append(s.flows, running{flow: f, name: name, serial: s.serials})
}

// keep ends the flows above the first n.
func (s *session) keep(n int) {
	clear(s.flows[n:])
	s.flows = s.flows[:n]
}

// showing makes the flow that owns screen id the current one again,
// ending the flows it started: going to a screen is returning to its
// flow. A shared screen changes nothing.
func (s *session) showing(id ScreenID) {
	if _, ok := sharedScreens[id]; ok {
		return
	}
	for i := len(s.flows) - 1; i >= 0; i-- {
		if _, ok := s.flows[i].screens()[id]; ok {
			s.keep(i + 1)
			return
		}
	}
}

// wipe zeroes the person's data and drops everything that was derived from
// it. The session keeps only its id and what the flows show of the result.
func (s *session) wipe() {
	s.p.wipe()
	clear(s.errs)
	s.focus = ""
}

// complete ends the service: the data is wiped now, the result stays on
// screen until the card leaves or the person finishes.
func (s *session) complete() {
	s.wipe()
	s.completed = true
}

// LogValue keeps the session to its id in logs.
func (s *session) LogValue() slog.Value { return slog.StringValue(s.id) }
