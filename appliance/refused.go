package appliance

import "errors"

// refused shows the upstream's refusal of a call made on screen from, the
// same way for every flow: field problems under their fields on from, a
// wrong code or password under its field, an ended or locked account on
// the error screen (the services that needed it end), anything else on
// the error screen with what to do next. A flow with refusals of its own
// handles those first and hands the rest here.
func (w wizard) refused(err error, from ScreenID) []Job {
	s := w.m.sess
	kind := errorKind(err)
	w.info("upstream refused", "step", string(from), "err_kind", kind)
	var ue *UpstreamError
	switch {
	case kind == KindAccountLocked || kind == KindUnauthorized:
		// The upstream ended the account session: nothing to log out.
		s.account = nil
		s.keep(0)
		s.errKind = kind
		w.m.goTo(ScreenError)
	case errors.As(err, &ue) && ue.Kind == KindInvalid && typable(ue.Fields):
		w.fieldErrors(ue.Fields, from)
	case kind == KindBadCode || kind == KindWrongPassword:
		f := FieldCode
		if kind == KindWrongPassword {
			f = FieldPassword
		}
		w.m.goTo(from)
		s.errs[f] = kind
		w.point(f)
	default:
		s.errKind = kind
		w.m.goTo(ScreenError)
	}
	return nil
}

// fieldErrors shows the upstream's field problems under their fields on
// screen to, and points at the first that is on it.
func (w wizard) fieldErrors(fs []FieldProblem, to ScreenID) {
	s := w.m.sess
	for _, fp := range fs {
		if fp.Field != FieldCard {
			s.errs[fp.Field] = fp.Code
		}
	}
	w.m.goTo(to)
	s.showErr++
	if _, ok := s.errs[s.focus]; ok {
		return
	}
	for _, f := range w.m.spec().fields {
		if _, bad := s.errs[f]; bad {
			s.focus = f
			return
		}
	}
}

// typable reports whether some of the fields are ones the person can fix
// (not the card's data or what the kiosk adds).
func typable(fs []FieldProblem) bool {
	for _, f := range fs {
		if f.Field != FieldCard {
			return true
		}
	}
	return false
}
