package appliance

import "github.com/nhikiosk/nhikiosk/display"

// A flow is one service of the wizard (registration, e-mail verification,
// the account services, …). It owns its screens: what a tap does on them,
// the jobs it asks for and the results it takes back, and the pages it
// draws. The machine keeps the rest: the card, the timers, the wipe, the
// typing into fields, and the screens every flow shares (busy, result,
// error, …). A flow reaches the session and the world only through the
// wizard it is handed (wizard.go); it keeps no wizard, and it never names
// another flow: the services a flow starts come from a list in flows.go.
//
// The machine calls a flow only on its goroutine, only while the flow is
// the session's current one, and never blocks on it: blocking work goes
// into jobs (wizard.job), whose results come back to the flow that asked,
// if it still runs.
type flow interface {
	// screens are the flow's own screens. While one shows, its taps come
	// to the flow and its page is the flow's.
	screens() map[ScreenID]screenSpec
	// start shows the flow's first screen, or starts the call that
	// leads to it.
	start(w wizard) []Job
	// tap handles a tap on one of the flow's screens (the fields and the
	// language switch are the machine's).
	tap(w wizard, id string) []Job
	// page draws the flow's screen w.screen().
	page(w wizard, v *view) *display.Page
}

// Parts a flow may add.
type (
	// handler takes the events that are not taps while the flow runs,
	// whatever the screen: every Tick (after the machine's timers),
	// ScrolledToEnd, and langSwitched.
	handler interface {
		handle(w wizard, ev Event) []Job
	}
	// resumer is a flow that others are started from (a menu of its
	// own): resume shows it again, with a note on what the other did,
	// when that one goes back (wizard.back) or the error screen's "menu"
	// returns to it. Without it, both lead to the menu.
	resumer interface {
		resume(w wizard, note string)
	}
	// layouter names what the flow's pages' layout depends on beyond
	// the screen and the language: when it changes, the view builds the
	// page again instead of patching it.
	layouter interface {
		layout(w wizard) string
	}
)

// screenSpec is what the machine needs to know of a screen.
type screenSpec struct {
	// fields in the order they are focused; typing goes to these only.
	fields []FieldID
	// noIdle: the person is waiting for the kiosk, or busy with their
	// phone, so no idle warning while it shows.
	noIdle bool
}

// langSwitched tells the current flow that the person switched the
// language.
type langSwitched struct{}

func (langSwitched) isEvent() {}

// entry is a service on a menu: the button that starts it and the flow it
// starts (flows.go lists them).
type entry struct {
	name  string // for logs, and the prefix of its files
	id    string // the button's widget id
	label string // the button's catalog key
	new   func() flow
	// after lists the upstream's refusals (kinds) after which the error
	// screen offers the service as the next step.
	after []string
	// needs, if set, reports whether the upstream offers the service.
	needs func(Upstream) bool
}
