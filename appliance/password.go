package appliance

import (
	"context"
	"errors"

	"github.com/nhikiosk/nhikiosk/display"
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

var passwordFields = []FieldID{FieldCurrentPassword, FieldNewPassword, FieldNewPassword2}

var passwordScreens = map[ScreenID]screenSpec{ScreenChangePassword: {fields: passwordFields}}

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
}

// passwordChange changes the registration password: the current one, the
// new one twice with the strength meter, checked as typed (rules, and not
// the old one). The fields are zeroed when sent.
type passwordChange struct{}

func newPasswordChange() flow { return &passwordChange{} }

func (*passwordChange) screens() map[ScreenID]screenSpec { return passwordScreens }

func (*passwordChange) start(w wizard) []Job {
	w.clearErrs()
	w.goTo(ScreenChangePassword)
	return nil
}

func (pc *passwordChange) tap(w wizard, id string) []Job {
	switch id {
	case IDBack:
		w.person().drop(passwordFields...)
		w.back("")
	case IDSubmit:
		if w.check() {
			return pc.send(w)
		}
	}
	return nil
}

// send sends the current and the new password; the fields are zeroed
// once sent.
func (pc *passwordChange) send(w wizard) []Job {
	p := w.person()
	cur, next := p.value(FieldCurrentPassword), p.value(FieldNewPassword)
	p.drop(passwordFields...)
	w.busy("busy.password")
	as := w.account()
	return []Job{w.job(func(ctx context.Context) reply {
		err := as.ChangePassword(ctx, cur, next)
		return func(w wizard) []Job {
			if err != nil {
				return pc.refused(w, err)
			}
			w.info("password changed")
			w.back("password.changed")
			return nil
		}
	})}
}

// refused puts the upstream's refusal under the field it is about: a
// wrong current password, or rules the new one breaks.
func (pc *passwordChange) refused(w wizard, err error) []Job {
	var ue *UpstreamError
	if !errors.As(err, &ue) || (ue.Kind != KindWrongPassword && ue.Kind != KindInvalid) {
		return w.refused(err, ScreenChangePassword)
	}
	w.info("upstream refused", "step", string(ScreenChangePassword), "err_kind", ue.Kind)
	w.goTo(ScreenChangePassword)
	if ue.Kind == KindWrongPassword {
		w.setErr(FieldCurrentPassword, KindWrongPassword)
	} else {
		for _, fp := range ue.Fields {
			switch fp.Field {
			case FieldPassword, FieldNewPassword:
				w.setErr(FieldNewPassword, fp.Code)
			case FieldCurrentPassword:
				w.setErr(FieldCurrentPassword, fp.Code)
			}
		}
	}
	if w.err(FieldCurrentPassword) != "" {
		w.point(FieldCurrentPassword)
	} else {
		w.point(FieldNewPassword)
	}
	return nil
}

func (*passwordChange) page(w wizard, v *view) *display.Page {
	return &display.Page{
		ID:     string(ScreenChangePassword),
		Header: display.NewHeader("header", display.M("change_password.title"), 0, 0),
		Body: []display.Widget{label("change_password.intro", "change_password.intro"),
			v.field(FieldCurrentPassword, "field.current_password"), v.field(FieldNewPassword, "field.new_password"),
			v.strengthMeter(FieldNewPassword), v.field(FieldNewPassword2, "field.password2")},
		Footer: []display.Widget{v.button(IDBack, "btn.back", display.Secondary), v.button(IDSubmit, "btn.submit", display.Primary)},
	}
}
