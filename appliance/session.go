package appliance

import (
	"log/slog"
	"time"
)

// flow is the service the person chose on the menu.
type flow string

// Flows.
const (
	flowNone     flow = ""
	flowRegister flow = "register"
	flowVerify   flow = "verify"
	flowResend   flow = "resend"
	flowForgot   flow = "forgot"
	flowDelete   flow = "delete"
)

// session is one person's visit, from card in to card out (or timeout). It
// owns the person's data; wipe zeroes it.
type session struct {
	id      string
	started time.Time
	p       *person
	flow    flow
	focus   FieldID
	// errs holds the rule or upstream error code shown under each field.
	errs map[FieldID]string
	// terms: the version shown, whether it was scrolled to its end, and
	// the version the person accepted.
	termsShown, termsAccepted string
	termsAtEnd                bool
	termsLoading              bool
	// termsText is the built-in text when the upstream's is not cached.
	termsText string
	// fromReview sends "next" back to the review after an edit.
	fromReview bool
	// page of a long list (divisions) on screen.
	page int
	// busyKey says what ScreenBusy waits for; cardErrKey why a card read
	// failed; errKind the upstream's answer on ScreenError; resultKey what
	// ScreenResult reports.
	busyKey, cardErrKey, errKind, resultKey string
	// Receipt of a registration: the reference, and whether it was queued
	// in the outbox rather than taken by the upstream.
	reference string
	queued    bool
	// showErr counts the times the machine asked for its focused field's
	// error to be brought into view (a failed "next", an upstream refusal).
	showErr int
	// completed is set once the service was done and the data wiped; the
	// session only waits for the card to leave.
	completed bool
	// acct is the logged-in person's account session (nil when not
	// logged in).
	acct *account
}

func newSession(id string, now time.Time) *session {
	return &session{id: id, started: now, p: newPerson(), errs: map[FieldID]string{}}
}

// wipe zeroes the person's data and drops everything that was derived from
// it. The session keeps only its id, the flow and what the receipt shows.
func (s *session) wipe() {
	s.p.wipe()
	clear(s.errs)
	s.focus = ""
	s.termsAccepted, s.termsShown = "", ""
}

// complete ends the service: the data is wiped now, the result stays on
// screen until the card leaves or the person finishes.
func (s *session) complete() {
	s.wipe()
	s.completed = true
}

// LogValue keeps the session to its id in logs.
func (s *session) LogValue() slog.Value { return slog.StringValue(s.id) }

// screenFields lists each screen's fields in the order they are focused.
var screenFields = map[ScreenID][]FieldID{
	ScreenHousehold: {FieldHousehold},
	ScreenAddress:   {FieldNeighbourhood},
	ScreenPassword:  {FieldPassword, FieldPassword2},
	ScreenContact:   {FieldPhoneArea, FieldPhoneNumber, FieldPhoneExt, FieldMobile, FieldEmail, FieldBackupEmail},
	ScreenVerify:    {FieldCode},
	ScreenReset:     {FieldCode, FieldPassword, FieldPassword2},
	ScreenDelete:    {FieldPassword},
}

// registerSteps is the order of the registration's screens.
var registerSteps = []ScreenID{ScreenTerms, ScreenCard, ScreenHousehold, ScreenAddress, ScreenPassword, ScreenContact, ScreenReview}

// fieldScreen is the registration screen that owns a field, for upstream
// errors and review edits.
var fieldScreen = map[FieldID]ScreenID{
	FieldHousehold:     ScreenHousehold,
	FieldAddress:       ScreenAddress,
	FieldNeighbourhood: ScreenAddress,
	FieldPassword:      ScreenPassword,
	FieldPassword2:     ScreenPassword,
	FieldPhoneArea:     ScreenContact,
	FieldPhoneNumber:   ScreenContact,
	FieldPhoneExt:      ScreenContact,
	FieldMobile:        ScreenContact,
	FieldEmail:         ScreenContact,
	FieldBackupEmail:   ScreenContact,
	FieldCard:          ScreenCard,
}
