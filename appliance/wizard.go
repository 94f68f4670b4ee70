package appliance

import (
	"context"
	"time"
)

// wizard is what a flow may touch while the machine hands it something:
// the session's person (the card's profile, the fields), the errors shown,
// the screen and the language, the shared screens, the ports and the
// reference data. It is the machine seen by a flow for the length of one
// call; flows keep no wizard.
type wizard struct{ m *Machine }

func (m *Machine) wizard() wizard { return wizard{m} }

// reply is what a flow's job brings back: it runs on the machine.
type reply func(w wizard) []Job

// The session.

// person returns the person's data: the card's profile, the fields, the
// address picked.
func (w wizard) person() *person { return w.m.sess.p }

// identity copies the card holder's identity for one upstream call.
func (w wizard) identity() Identity {
	c := w.m.sess.p.card
	return Identity{IDNumber: string(c.IDNumber), CardNumber: string(c.CardNumber)}
}

// info logs one line with the session's id; args never hold personal
// data.
func (w wizard) info(msg string, args ...any) {
	w.m.opt.Log.Info(msg, append([]any{"session", w.m.sess.id}, args...)...)
}

func (w wizard) now() time.Time   { return w.m.opt.Now() }
func (w wizard) lang() string     { return w.m.lang }
func (w wizard) screen() ScreenID { return w.m.screen }

// err returns the error code shown under field f.
func (w wizard) err(f FieldID) string { return w.m.sess.errs[f] }

// setErr shows error code c under field f.
func (w wizard) setErr(f FieldID, c string) { w.m.sess.errs[f] = c }

// clearErr takes the error under f away.
func (w wizard) clearErr(f FieldID) { delete(w.m.sess.errs, f) }

// clearErrs forgets the errors shown: under the fields and on the error
// screen.
func (w wizard) clearErrs() {
	clear(w.m.sess.errs)
	w.m.sess.errKind = ""
}

// point focuses field f and brings its error into view.
func (w wizard) point(f FieldID) {
	w.m.sess.focus = f
	w.m.sess.showErr++
}

// check checks every field of the screen before moving on and reports
// whether all passed, pointing at the first that failed.
func (w wizard) check() bool {
	s := w.m.sess
	ok := true
	for _, f := range w.m.spec().fields {
		if c := checkField(s.p, f); c != "" {
			s.errs[f] = c
			if ok {
				s.focus = f
			}
			ok = false
		} else {
			delete(s.errs, f)
		}
	}
	if !ok {
		s.showErr++
		w.info("field errors", "step", string(w.m.screen), "err_kind", "invalid")
	}
	return ok
}

// complete ends the service: the person's data is wiped now, what the
// flow shows of the result stays until the card leaves.
func (w wizard) complete() { w.m.sess.complete() }

// Screens.

// goTo shows screen s: one of the flow's, or a shared one.
func (w wizard) goTo(s ScreenID) { w.m.goTo(s) }

// busy shows the waiting screen, saying what for (a catalog key).
func (w wizard) busy(key string) {
	w.m.sess.busyKey = key
	w.m.goTo(ScreenBusy)
}

// done completes the service started on screen from and shows the result
// screen with resultKey.
func (w wizard) done(from ScreenID, resultKey string) {
	s := w.m.sess
	w.info("service done", "step", string(from), "flow", s.top().name)
	s.resultKey = resultKey
	s.complete()
	w.m.goTo(ScreenResult)
}

// finish ends the session: the service is done.
func (w wizard) finish() { w.m.finish() }

// back ends the current flow and shows the one it was started from
// (resume, with note), or the menu.
func (w wizard) back(note string) {
	s := w.m.sess
	s.keep(len(s.flows) - 1)
	if r, ok := s.top().flow.(resumer); ok {
		r.resume(w, note)
		return
	}
	w.m.toMenu()
}

// toMenu ends every flow and shows the menu, forgetting what was typed.
func (w wizard) toMenu() { w.m.toMenu() }

// start starts e's service on top of the current flow (a service of its
// menu, from flows.go).
func (w wizard) start(e entry) []Job { return w.m.start(e) }

// The ports.

// upstream returns the registration service.
func (w wizard) upstream() Upstream { return w.m.opt.Upstream }

// account returns the logged-in person's session at the upstream (nil
// when not logged in).
func (w wizard) account() AccountSession { return w.m.sess.account }

// loggedIn keeps as for the session: it is logged out when the session
// ends.
func (w wizard) loggedIn(as AccountSession) { w.m.sess.account = as }

// job returns a job that runs do off the machine (it may block); the
// reply do returns runs back on the machine if the flow that asked is
// still the session's current one, and is dropped otherwise.
func (w wizard) job(do func(ctx context.Context) reply) Job {
	return w.jobOr(func(ctx context.Context) (reply, func()) { return do(ctx), nil })
}

// jobOr is job whose do also returns what to run instead of the reply
// when it is dropped (releasing what the call brought back).
func (w wizard) jobOr(do func(ctx context.Context) (reply, func())) Job {
	sess, serial := w.m.sess.id, w.m.sess.top().serial
	return func(ctx context.Context) Event {
		then, drop := do(ctx)
		return result{session: sess, serial: serial, discard: drop, apply: func(m *Machine) []Job { return then(m.wizard()) }}
	}
}

// call shows busyKey while do runs, then the upstream's refusal (refused,
// as made on screen from) or the result screen with resultKey.
func (w wizard) call(from ScreenID, busyKey, resultKey string, do func(context.Context) error) []Job {
	w.busy(busyKey)
	return []Job{w.job(func(ctx context.Context) reply {
		err := do(ctx)
		return func(w wizard) []Job {
			if err != nil {
				return w.refused(err, from)
			}
			w.done(from, resultKey)
			return nil
		}
	})}
}
