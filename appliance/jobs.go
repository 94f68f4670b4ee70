package appliance

import "context"

// readCard reads the card's profile into the session.
func (m *Machine) readCard() Job {
	sess, card, key := m.sess.id, m.opt.Card, m.opt.CardKey
	return func(ctx context.Context) Event {
		p, err := card.ReadProfile(ctx)
		return result{session: sess, discard: p.Wipe, apply: func(m *Machine) []Job {
			if m.screen != ScreenReading {
				p.Wipe()
				return nil
			}
			if err != nil {
				m.sess.cardErrKey = key(err)
				m.opt.Log.Info("card read failed", "session", sess, "err_kind", m.sess.cardErrKey)
				m.goTo(ScreenCardError)
				return nil
			}
			m.sess.p.card = p
			m.goTo(ScreenMenu)
			return nil
		}}
	}
}

// termsFor makes sure the rules of the service are there in the current
// language when the terms screen shows: cached, or fetched (the built-in
// copy stands in if the upstream does not answer).
func (m *Machine) termsFor() []Job {
	s := m.sess
	if s == nil || m.screen != ScreenTerms {
		return nil
	}
	lang := m.lang
	if t, ok := m.terms[lang]; ok {
		s.termsShown, s.termsLoading = t.Version, false
		return nil
	}
	s.termsLoading, s.termsAtEnd = true, false
	up := m.opt.Upstream
	return []Job{func(ctx context.Context) Event {
		t, err := up.Terms(ctx, lang)
		return result{apply: func(m *Machine) []Job {
			if err != nil || t.Text == "" || t.Version == "" {
				m.opt.Log.Info("terms from upstream unavailable, using built-in", "err_kind", errorKind(err))
				t = builtinTerms(lang)
			} else {
				// Only the upstream's own text is cached; the built-in copy
				// is tried again next time.
				m.terms[lang] = t
			}
			if s := m.sess; s != nil && m.screen == ScreenTerms && m.lang == lang {
				s.termsShown, s.termsLoading, s.termsAtEnd = t.Version, false, false
				s.termsText = t.Text
			}
			return nil
		}}
	}}
}

// termsText returns the text of the rules on screen.
func (m *Machine) termsText() string {
	if t, ok := m.terms[m.lang]; ok {
		return t.Text
	}
	if m.sess != nil && m.sess.termsText != "" {
		return m.sess.termsText
	}
	return builtinTerms(m.lang).Text
}

// loadDivisions fetches the upstream's division list, keeping the built-in
// one if it does not answer.
func (m *Machine) loadDivisions() Job {
	up := m.opt.Upstream
	return func(ctx context.Context) Event {
		ds, err := up.Divisions(ctx)
		return result{apply: func(m *Machine) []Job {
			if err != nil || len(ds) == 0 {
				m.opt.Log.Info("divisions from upstream unavailable, using built-in", "err_kind", errorKind(err))
				return nil
			}
			m.divisions = ds
			return nil
		}}
	}
}

// registerJob submits r.
func (m *Machine) registerJob(r Registration) Job {
	sess, up := m.sess.id, m.opt.Upstream
	return func(ctx context.Context) Event {
		rc, err := up.Register(ctx, r)
		return result{session: sess, apply: func(m *Machine) []Job {
			if err != nil {
				return m.upstreamRefused(err, ScreenReview)
			}
			m.registered(rc.Reference, rc.Queued)
			return nil
		}}
	}
}

// serviceJob runs one account service call, showing busyKey meanwhile.
func (m *Machine) serviceJob(busyKey string, from ScreenID, resultKey string, do func(context.Context) error) []Job {
	m.sess.busyKey = busyKey
	m.goTo(ScreenBusy)
	sess := m.sess.id
	return []Job{func(ctx context.Context) Event {
		err := do(ctx)
		return result{session: sess, apply: func(m *Machine) []Job {
			if err != nil {
				return m.upstreamRefused(err, from)
			}
			m.serviceDone(from, resultKey)
			return nil
		}}
	}}
}
