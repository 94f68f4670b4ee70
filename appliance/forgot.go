package appliance

import (
	"context"

	"github.com/nhikiosk/nhikiosk/display"
)

// Screens of the forgotten registration password (忘記註冊密碼): ask for a
// code by e-mail, then type it with the new password.
const (
	ScreenForgot ScreenID = "forgot"
	ScreenReset  ScreenID = "reset"
)

// IDForgot starts it from the menu.
const IDForgot = "menu.forgot"

var forgotScreens = map[ScreenID]screenSpec{
	ScreenForgot: {},
	ScreenReset:  {fields: []FieldID{FieldCode, FieldPassword, FieldPassword2}},
}

// forgot sets a new registration password with a code sent by e-mail (it
// also unlocks an account locked by wrong passwords).
type forgot struct{}

func newForgot() flow { return &forgot{} }

func (*forgot) screens() map[ScreenID]screenSpec { return forgotScreens }

func (*forgot) start(w wizard) []Job {
	w.goTo(ScreenForgot)
	return nil
}

func (*forgot) tap(w wizard, id string) []Job {
	switch {
	case id == IDBack && w.screen() == ScreenReset:
		w.goTo(ScreenForgot)
	case id == IDBack:
		w.back("")
	case id == IDSubmit && !w.check():
	case id == IDSubmit && w.screen() == ScreenForgot:
		return requestReset(w)
	case id == IDSubmit:
		return w.checkCard(PurposePasswordReset, ScreenReset, func(w wizard, card Identity) []Job {
			p := w.person()
			code, pw, up := p.value(FieldCode), p.value(FieldPassword), w.upstream()
			return w.call(ScreenReset, "busy.reset", "result.reset",
				func(ctx context.Context) error { return up.ResetPassword(ctx, card, code, pw) })
		})
	}
	return nil
}

// requestReset asks for the code by e-mail, then shows where to type it.
func requestReset(w wizard) []Job {
	card, up := w.identity(), w.upstream()
	w.busy("busy.forgot")
	return []Job{w.job(func(ctx context.Context) reply {
		err := up.RequestReset(ctx, card)
		return func(w wizard) []Job {
			if err != nil {
				return w.refused(err, ScreenForgot)
			}
			w.info("service done", "step", string(ScreenForgot), "flow", "forgot")
			w.goTo(ScreenReset)
			return nil
		}
	})}
}

func (*forgot) page(w wizard, v *view) *display.Page {
	if w.screen() == ScreenForgot {
		return v.formPage("forgot.title", "forgot.intro", "forgot.send")
	}
	return v.formPage("reset.title", "reset.intro", "btn.submit", v.field(FieldCode, "field.code"),
		v.field(FieldPassword, "field.new_password"), v.strengthMeter(FieldPassword), v.field(FieldPassword2, "field.password2"))
}
