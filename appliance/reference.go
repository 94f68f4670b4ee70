package appliance

import (
	"context"
	"time"

	"github.com/nhikiosk/nhikiosk/divisions"
)

// The reference data every session reads, kept across sessions: the rules
// of the service by language (the upstream's text, cached once it
// answered; public) and the division list (the built-in one until the
// upstream's arrives).

// How often the kiosk asks the upstream whether its division list changed
// (an If-None-Match request: a 304 costs nothing), and how soon it asks
// again after no answer.
const (
	divisionsEvery = time.Hour
	divisionsRetry = 5 * time.Minute
)

// divisionsDue asks for the upstream's division list when it is time, and
// only between sessions.
func (m *Machine) divisionsDue() []Job {
	if m.sess != nil || m.divisionsAsking || m.opt.Now().Before(m.divisionsAt) {
		return nil
	}
	return []Job{m.loadDivisions(false)}
}

// loadDivisions asks the upstream for its division list: at start, every
// divisionsEvery between sessions, and at once when it refused an address
// as unknown. The upstream's current list replaces the one in use, and so
// does a copy kept from its last answer when it is at least as new (a
// kiosk that restarts offline keeps the newest list it has seen, not the
// older one built in). A list that arrives during a session waits for its
// end, unless now is set: the person is choosing the address again.
func (m *Machine) loadDivisions(now bool) Job {
	up := m.opt.Upstream
	m.divisionsAsking = true
	// Timed from the asking: the answer does not read the clock, which
	// sleeps between sessions.
	asked := m.opt.Now()
	return func(ctx context.Context) Event {
		l, err := up.Divisions(ctx)
		return result{apply: func(m *Machine) []Job {
			m.divisionsAsking = false
			m.divisionsAt = asked.Add(divisionsEvery)
			switch {
			case err != nil || len(l.Counties) == 0:
				m.divisionsAt = asked.Add(divisionsRetry)
				m.opt.Log.Info("divisions from upstream unavailable", "err_kind", errorKind(err), "version", m.divisions.Version)
			case l.Cached && divisions.Newer(m.divisions.Version, l.Version):
				m.opt.Log.Info("divisions: kept copy older than the list in use", "version", m.divisions.Version, "cached", l.Version)
			case m.sess != nil && !now:
				m.divisionsNext = &l
			default:
				m.useDivisions(l)
			}
			return nil
		}}
	}
}

// useDivisions makes l the list the pickers show.
func (m *Machine) useDivisions(l DivisionList) {
	if l.Version != m.divisions.Version || l.Cached != m.divisions.Cached {
		m.opt.Log.Info("divisions", "version", l.Version, "cached", l.Cached)
	}
	m.divisions, m.divisionsNext = l, nil
}

// divisionsBetween puts a list that arrived during the session in use,
// now that it ended.
func (m *Machine) divisionsBetween() {
	if m.divisionsNext != nil {
		m.useDivisions(*m.divisionsNext)
	}
}

// divisions returns the division list.
func (w wizard) divisions() []Division { return w.m.divisions.Counties }

// reloadDivisions asks the upstream for its list now, to be used at once
// (it refused an address the kiosk's list has).
func (w wizard) reloadDivisions() []Job {
	if w.m.divisionsAsking {
		return nil
	}
	return []Job{w.m.loadDivisions(true)}
}

// terms returns the upstream's rules in lang, if they are cached.
func (w wizard) terms(lang string) (Terms, bool) {
	t, ok := w.m.terms[lang]
	return t, ok
}

// forgetTerms drops the cached rules: the upstream published new ones.
func (w wizard) forgetTerms() { clear(w.m.terms) }

// loadTerms fetches the rules in lang from the upstream and caches them;
// the built-in copy stands in if it does not answer. then gets the text
// if the flow that asked still runs.
func (w wizard) loadTerms(lang string, then func(w wizard, t Terms)) Job {
	up, sess, serial := w.m.opt.Upstream, w.m.sess.id, w.m.sess.top().serial
	return func(ctx context.Context) Event {
		t, err := up.Terms(ctx, lang)
		// Kiosk-wide: the cache is filled even if the session is gone.
		return result{apply: func(m *Machine) []Job {
			if err != nil || t.Text == "" || t.Version == "" {
				m.opt.Log.Info("terms from upstream unavailable, using built-in", "err_kind", errorKind(err))
				t = builtinTerms(lang)
			} else {
				// Only the upstream's own text is cached; the built-in copy
				// is tried again next time.
				m.terms[lang] = t
			}
			if m.current(sess, serial) {
				then(m.wizard(), t)
			}
			return nil
		}}
	}
}
