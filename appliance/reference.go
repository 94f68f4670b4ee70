package appliance

import "context"

// The reference data every session reads, kept across sessions: the rules
// of the service by language (the upstream's text, cached once it
// answered; public) and the division list (the built-in one until the
// upstream's arrives).

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

// divisions returns the division list.
func (w wizard) divisions() []Division { return w.m.divisions }

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
