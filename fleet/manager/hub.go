package manager

import (
	"sync"
)

// change says what changed about a kiosk, so each page hears only what it
// shows.
type change uint8

const (
	changeHealth change = 1 << iota // numbers only: the kiosk's own page
	changeView                      // what lists show: status, state, alerts, version, enrollment
	changeAlerts                    // an alert raised, cleared or acknowledged
	changeFleet                     // a broker connection
)

// Watches a page can ask for (besides a kiosk's name).
const (
	WatchFleet  = "*"      // the overview: rows and counts
	WatchAlerts = "alerts" // the alerts page
)

// maxNames bounds the names one update carries; past it the page reloads
// its whole fragment.
const maxNames = 500

// hub tells dashboards what changed. Each subscriber gets a coalesced set
// of changed names and kinds, so a slow browser never slows the message
// path, and a fleet's routine health reports wake nobody but the page of
// that one kiosk (issue 14: every page redrew once a second at 10,000).
type hub struct {
	mu   sync.Mutex
	subs map[*sub]struct{}
}

type sub struct {
	watch  string
	mu     sync.Mutex
	names  map[string]struct{}
	all    bool
	kinds  change
	notify chan struct{}
}

// update is what one SSE event tells a page.
type update struct {
	Kiosks  []string `json:"kiosks,omitempty"`
	All     bool     `json:"all,omitempty"`     // too many to name: reload everything
	Summary bool     `json:"summary,omitempty"` // counts may have changed
	Alerts  bool     `json:"alerts,omitempty"`
	Fleet   bool     `json:"fleet,omitempty"` // a broker connection changed
}

func newHub() *hub { return &hub{subs: map[*sub]struct{}{}} }

func (h *hub) subscribe(watch string) *sub {
	s := &sub{watch: watch, names: map[string]struct{}{}, notify: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

func (h *hub) unsubscribe(s *sub) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
}

// publish records that kiosk name ("" for the fleet) changed by c.
func (h *hub) publish(name string, c change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		var wants bool
		switch s.watch {
		case WatchFleet:
			wants = c&(changeView|changeFleet) != 0
		case WatchAlerts:
			wants = c&(changeAlerts|changeFleet) != 0
		default:
			wants = name == s.watch || c&changeFleet != 0
		}
		if !wants {
			continue
		}
		s.mu.Lock()
		s.kinds |= c
		if name != "" && c&changeView != 0 {
			if len(s.names) < maxNames {
				s.names[name] = struct{}{}
			} else {
				s.all = true
			}
		}
		s.mu.Unlock()
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
}

// take returns and clears what changed.
func (s *sub) take() update {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := update{All: s.all, Summary: s.kinds&(changeView|changeFleet) != 0,
		Alerts: s.kinds&changeAlerts != 0, Fleet: s.kinds&changeFleet != 0}
	if !s.all {
		for n := range s.names {
			u.Kiosks = append(u.Kiosks, n)
		}
	}
	clear(s.names)
	s.all, s.kinds = false, 0
	return u
}
