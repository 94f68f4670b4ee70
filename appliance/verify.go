package appliance

import (
	"context"

	"github.com/nhikiosk/nhikiosk/display"
)

// ScreenVerify completes the e-mail verification with the code the e-mail
// brought.
const ScreenVerify ScreenID = "verify"

// IDVerify starts it from the menu.
const IDVerify = "menu.verify"

var verifyScreens = map[ScreenID]screenSpec{ScreenVerify: {fields: []FieldID{FieldCode}}}

// verify completes the registration with the code from the confirmation
// e-mail.
type verify struct{}

func newVerify() flow { return &verify{} }

func (*verify) screens() map[ScreenID]screenSpec { return verifyScreens }

func (*verify) start(w wizard) []Job {
	w.goTo(ScreenVerify)
	return nil
}

func (*verify) tap(w wizard, id string) []Job {
	switch id {
	case IDBack:
		w.back("")
	case IDSubmit:
		if !w.check() {
			return nil
		}
		return w.checkCard(PurposeVerification, ScreenVerify, func(w wizard, card Identity) []Job {
			code, up := w.person().value(FieldCode), w.upstream()
			return w.call(ScreenVerify, "busy.verify", "result.verified",
				func(ctx context.Context) error { return up.Verify(ctx, card, code) })
		})
	}
	return nil
}

func (*verify) page(w wizard, v *view) *display.Page {
	return v.formPage("verify.title", "verify.intro", "btn.submit", v.field(FieldCode, "field.code"))
}
