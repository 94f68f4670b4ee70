package appliance

import "github.com/nhikiosk/nhikiosk/display"

// servicePage is the page of an account service: what it does, its fields
// and its button.
func (v *view) servicePage() *display.Page {
	var title, intro, submit string
	var body []display.Widget
	switch v.m.screen {
	case ScreenVerify:
		title, intro, submit = "verify.title", "verify.intro", "btn.submit"
		body = []display.Widget{v.field(FieldCode, "field.code")}
	case ScreenResend:
		title, intro, submit = "resend.title", "resend.intro", "btn.submit"
	case ScreenForgot:
		title, intro, submit = "forgot.title", "forgot.intro", "forgot.send"
	case ScreenReset:
		title, intro, submit = "reset.title", "reset.intro", "btn.submit"
		body = []display.Widget{v.field(FieldCode, "field.code"), v.field(FieldPassword, "field.new_password"),
			newStrengthMeter(v.m, FieldPassword), v.field(FieldPassword2, "field.password2")}
	case ScreenDelete:
		title, intro, submit = "delete.title", "delete.intro", "delete.confirm"
		body = []display.Widget{v.field(FieldPassword, "field.password")}
	}
	body = append([]display.Widget{label(string(v.m.screen)+".intro", intro)}, body...)
	return &display.Page{
		ID:     string(v.m.screen),
		Header: display.NewHeader("header", display.M(title), 0, 0),
		Body:   body,
		Footer: []display.Widget{v.button(IDBack, "btn.back", display.Secondary), v.button(IDSubmit, submit, display.Primary)},
	}
}
