package appliance

import (
	"context"
	"fmt"
	"maps"
	"time"
)

// SessionCounts counts the sessions of one local day: numbers and reasons
// only, nothing about the people in them.
type SessionCounts struct {
	// Day is the local midnight the counts start at.
	Day       time.Time
	Started   uint64
	Completed uint64
	// Aborted counts sessions that ended unfinished, by reason
	// ("card_removed", "idle_timeout", "max_duration").
	Aborted map[string]uint64
}

// countsToday returns the counters, started afresh when the day changed.
func (m *Machine) countsToday(now time.Time) *SessionCounts {
	y, mo, d := now.Date()
	day := time.Date(y, mo, d, 0, 0, 0, 0, now.Location())
	if !m.counts.Day.Equal(day) {
		m.counts = SessionCounts{Day: day, Aborted: map[string]uint64{}}
	}
	return &m.counts
}

// Counts returns a copy of today's session counts.
func (m *Machine) Counts() SessionCounts {
	c := *m.countsToday(m.opt.Now())
	c.Aborted = maps.Clone(c.Aborted)
	return c
}

// Status is what the kiosk tells its operator about itself: whether a
// person is in a session, the screen shown and today's counts. It carries
// no personal data.
type Status struct {
	InSession bool
	Screen    ScreenID
	Counts    SessionCounts
}

// Query runs f with the kiosk's status on the kiosk's own goroutine (so f
// sees the screen as the status describes it, e.g. to copy the frame only
// when no session is on it) and waits for it, or for ctx. Call it from any
// goroutine while Run runs.
func (k *Kiosk) Query(ctx context.Context, f func(Status)) error {
	done := make(chan struct{})
	do := func() {
		defer close(done)
		f(Status{InSession: k.m.sess != nil, Screen: k.m.screen, Counts: k.m.Counts()})
	}
	// Do blocks while the display's queue is full; the wait is ctx's.
	go k.ui.Do(do)
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("query kiosk: %w", ctx.Err())
	}
}
