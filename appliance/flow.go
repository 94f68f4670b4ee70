package appliance

import (
	"slices"
	"strings"

	"github.com/nhikiosk/nhikiosk/rules"
)

// tap handles a tap on widget id on the current screen.
func (m *Machine) tap(id string) []Job {
	switch id {
	case IDLangZh:
		m.setLang(LangZhTW)
		return m.termsFor()
	case IDLangEn:
		m.setLang(LangEn)
		return m.termsFor()
	}
	if f, ok := strings.CutPrefix(id, "field."); ok && m.sess != nil && slices.Contains(screenFields[m.screen], FieldID(f)) {
		m.sess.focus = FieldID(f)
		return nil
	}
	switch m.screen {
	case ScreenAttract:
		if id == IDHelp {
			m.goTo(ScreenHelp)
		}
	case ScreenHelp:
		if id == IDBack {
			m.helpBack()
		}
	case ScreenCardError:
		return m.tapCardError(id)
	case ScreenMenu:
		return m.tapMenu(id)
	case ScreenResult, ScreenReceipt:
		if id == IDFinish {
			m.finish()
		}
	case ScreenError:
		return m.tapError(id)
	default:
		if m.sess == nil {
			return nil
		}
		if m.sess.flow == flowRegister {
			return m.tapRegister(id)
		}
		if m.sess.flow == flowAccount {
			return m.tapAccount(id)
		}
		return m.tapService(id)
	}
	return nil
}

func (m *Machine) setLang(l string) {
	if m.lang == l {
		return
	}
	m.lang = l
	if m.sess != nil && m.screen == ScreenTerms {
		// The person must read the text in the language they accept it in.
		m.sess.termsAtEnd = false
	}
}

func (m *Machine) helpBack() {
	if m.sess == nil {
		m.toAttract()
		return
	}
	if m.sess.cardErrKey != "" {
		m.goTo(ScreenCardError)
		return
	}
	m.goTo(ScreenMenu)
}

func (m *Machine) tapCardError(id string) []Job {
	switch id {
	case IDRetry:
		m.sess.cardErrKey = ""
		m.goTo(ScreenReading)
		return []Job{m.readCard()}
	case IDHelp:
		m.goTo(ScreenHelp)
	}
	return nil
}

func (m *Machine) tapMenu(id string) []Job {
	s := m.sess
	clear(s.errs)
	switch id {
	case IDRegister:
		s.flow = flowRegister
		s.fromReview = false
		m.goTo(ScreenTerms)
		return m.termsFor()
	case IDVerify:
		s.flow = flowVerify
		m.goTo(ScreenVerify)
	case IDResend:
		s.flow = flowResend
		m.goTo(ScreenResend)
	case IDForgot:
		s.flow = flowForgot
		m.goTo(ScreenForgot)
	case IDDelete:
		s.flow = flowDelete
		m.goTo(ScreenDelete)
	case IDCardHelp:
		m.goTo(ScreenHelp)
	case IDLogin:
		m.startLogin()
	case IDFinish:
		m.finish()
	}
	return nil
}

// tapError offers the next step after an upstream's refusal.
func (m *Machine) tapError(id string) []Job {
	switch id {
	case IDMenu:
		if m.sess.acct != nil {
			m.sess.flow = flowAccount
			m.toAccount("")
			return nil
		}
		m.toMenu()
	case IDVerify, IDResend, IDRegister, IDForgot, IDLogin:
		m.toMenu()
		return m.tapMenu(id)
	case IDFinish:
		m.finish()
	}
	return nil
}

// toMenu goes back to the menu, forgetting what the flow typed.
func (m *Machine) toMenu() {
	s := m.sess
	for f, b := range s.p.fields {
		zero(b)
		delete(s.p.fields, f)
	}
	s.p.county, s.p.township, s.p.village = "", "", ""
	clear(s.errs)
	s.flow, s.errKind, s.resultKey = flowNone, "", ""
	s.termsAccepted, s.termsAtEnd = "", false
	m.goTo(ScreenMenu)
}

// finish ends a session whose service is done: the data is wiped at once;
// the attract screen follows when the card leaves.
func (m *Machine) finish() {
	if m.sess == nil {
		m.toAttract()
		return
	}
	m.endSession("finished")
	m.toAttract()
}

// key types into the focused field and checks it as the person types.
func (m *Machine) key(text string) {
	s := m.sess
	if s == nil || s.focus == "" {
		return
	}
	spec := fieldSpecs[s.focus]
	b := s.p.fields[s.focus]
	if cap(b) < spec.max {
		// Room for the longest value, so appending never reallocates and
		// leaves an unzeroed copy behind.
		nb := append(make([]byte, 0, spec.max), b...)
		zero(b)
		b = nb
	}
	switch text {
	case KeyBackspace:
		if len(b) > 0 {
			b[len(b)-1] = 0
			b = b[:len(b)-1]
		}
	case KeyClear:
		zero(b)
		b = b[:0]
	default:
		for i := range len(text) {
			c := spec.keyboard.normalize(text[i])
			if len(b) < spec.max && spec.keyboard.accepts(c) {
				b = append(b, c)
			}
		}
	}
	s.p.fields[s.focus] = b
	m.checkTyped()
}

// setField takes over v as f's value, keeping only what f's keyboard can
// type and its maximum length, and zeroing the value it replaces.
func (m *Machine) setField(f FieldID, v []byte) {
	s := m.sess
	if s == nil || !slices.Contains(screenFields[m.screen], f) {
		zero(v)
		return
	}
	spec := fieldSpecs[f]
	n := 0
	for _, c := range v {
		c = spec.keyboard.normalize(c)
		if n < spec.max && spec.keyboard.accepts(c) {
			v[n] = c
			n++
		}
	}
	zero(v[n:])
	zero(s.p.fields[f])
	s.p.fields[f] = v[:n]
	s.focus = f
	m.checkTyped()
}

// checkTyped re-checks the screen's fields that hold something, so an
// error shows as soon as it is made and goes as soon as it is fixed.
func (m *Machine) checkTyped() {
	s := m.sess
	for _, f := range screenFields[m.screen] {
		if s.p.value(f) == "" {
			delete(s.errs, f)
			continue
		}
		// "Required" waits for "next": it is not a mistake while typing.
		if c := checkField(s.p, f); c != "" && c != rules.CodeRequired {
			s.errs[f] = c
		} else {
			delete(s.errs, f)
		}
	}
}

// checkScreen checks every field of the screen before moving on and
// reports whether all passed, focusing the first that failed.
func (m *Machine) checkScreen() bool {
	s := m.sess
	ok := true
	for _, f := range screenFields[m.screen] {
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
		m.opt.Log.Info("field errors", "session", s.id, "step", string(m.screen), "err_kind", "invalid")
	}
	return ok
}

func (m *Machine) scrolledToEnd() {
	if m.sess != nil && m.screen == ScreenTerms && !m.sess.termsLoading {
		m.sess.termsAtEnd = true
	}
}
