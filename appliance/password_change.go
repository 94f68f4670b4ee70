package appliance

import (
	"context"
	"errors"

	"github.com/nhikiosk/nhikiosk/rules"
)

// Fields of the password change (註冊密碼變更).
const (
	FieldCurrentPassword FieldID = "current_password"
	FieldNewPassword     FieldID = "new_password"
	FieldNewPassword2    FieldID = "new_password2"
)

// ScreenChangePassword is the password change.
const ScreenChangePassword ScreenID = "change_password"

// IDChangePassword opens it from the account menu.
const IDChangePassword = "account.password"

func init() {
	fieldSpecs[FieldCurrentPassword] = fieldSpec{max: rules.PasswordMax, keyboard: KeyboardPassword, secret: true,
		check: func(_ *person, v string) error {
			if v == "" {
				return ruleError(rules.CodeRequired, "the current password is required")
			}
			return nil
		}}
	fieldSpecs[FieldNewPassword] = fieldSpec{max: rules.PasswordMax, keyboard: KeyboardPassword, secret: true,
		check: func(p *person, v string) error { return rules.NewPassword(p.value(FieldCurrentPassword), v) }}
	fieldSpecs[FieldNewPassword2] = fieldSpec{max: rules.PasswordMax, keyboard: KeyboardPassword, secret: true,
		check: func(p *person, v string) error {
			if v != p.value(FieldNewPassword) {
				return ruleError(codeMismatch, "the two passwords differ")
			}
			return nil
		}}
	screenFields[ScreenChangePassword] = []FieldID{FieldCurrentPassword, FieldNewPassword, FieldNewPassword2}
}

// tapChangePassword handles the password change screen; it reports
// whether it did.
func (m *Machine) tapChangePassword(id string) ([]Job, bool) {
	if m.screen != ScreenChangePassword {
		return nil, false
	}
	switch id {
	case IDBack:
		m.dropFields(screenFields[ScreenChangePassword])
		m.toAccount("")
	case IDSubmit:
		if m.checkScreen() {
			return m.changePassword(), true
		}
	}
	return nil, true
}

// dropFields zeroes and forgets what fs hold.
func (m *Machine) dropFields(fs []FieldID) {
	for _, f := range fs {
		zero(m.sess.p.fields[f])
		delete(m.sess.p.fields, f)
	}
}

// changePassword sends the current and the new password; the fields are
// zeroed once sent.
func (m *Machine) changePassword() []Job {
	s := m.sess
	cur, next := s.p.value(FieldCurrentPassword), s.p.value(FieldNewPassword)
	m.dropFields(screenFields[ScreenChangePassword])
	s.busyKey = "busy.password"
	m.goTo(ScreenBusy)
	sess, as := s.id, s.acct.s
	return []Job{func(ctx context.Context) Event {
		err := as.ChangePassword(ctx, cur, next)
		return result{session: sess, apply: func(m *Machine) []Job {
			if m.sess.acct == nil {
				return nil
			}
			if err != nil {
				return m.passwordRefused(err)
			}
			m.opt.Log.Info("password changed", "session", sess)
			m.toAccount("password.changed")
			return nil
		}}
	}}
}

// passwordRefused puts the upstream's refusal under the field it is
// about: a wrong current password, or rules the new one breaks.
func (m *Machine) passwordRefused(err error) []Job {
	s := m.sess
	var ue *UpstreamError
	switch {
	case errors.As(err, &ue) && ue.Kind == KindWrongPassword:
		m.opt.Log.Info("upstream refused", "session", s.id, "step", string(ScreenChangePassword), "err_kind", ue.Kind)
		m.goTo(ScreenChangePassword)
		s.errs[FieldCurrentPassword] = KindWrongPassword
	case errors.As(err, &ue) && ue.Kind == KindInvalid:
		m.opt.Log.Info("upstream refused", "session", s.id, "step", string(ScreenChangePassword), "err_kind", ue.Kind)
		m.goTo(ScreenChangePassword)
		for _, fp := range ue.Fields {
			switch fp.Field {
			case FieldPassword, FieldNewPassword:
				s.errs[FieldNewPassword] = fp.Code
			case FieldCurrentPassword:
				s.errs[FieldCurrentPassword] = fp.Code
			}
		}
	default:
		return m.accountRefused(err, ScreenChangePassword)
	}
	s.focus = FieldCurrentPassword
	if _, ok := s.errs[FieldCurrentPassword]; !ok {
		s.focus = FieldNewPassword
	}
	s.showErr++
	return nil
}
