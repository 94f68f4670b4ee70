package appliance

import (
	"context"

	"github.com/nhikiosk/nhikiosk/display"
)

// ScreenResend sends the confirmation e-mail again (重寄確認信).
const ScreenResend ScreenID = "resend"

// IDResend starts it from the menu.
const IDResend = "menu.resend"

var resendScreens = map[ScreenID]screenSpec{ScreenResend: {}}

// resend asks the upstream to send the registration's confirmation e-mail
// again: one screen, one call, the result screen.
type resend struct{}

func newResend() flow { return &resend{} }

func (*resend) screens() map[ScreenID]screenSpec { return resendScreens }

func (*resend) start(w wizard) []Job {
	w.goTo(ScreenResend)
	return nil
}

func (*resend) tap(w wizard, id string) []Job {
	switch id {
	case IDBack:
		w.back("")
	case IDSubmit:
		card, up := w.identity(), w.upstream()
		return w.call(ScreenResend, "busy.resend", "result.resent",
			func(ctx context.Context) error { return up.Resend(ctx, card) })
	}
	return nil
}

func (*resend) page(w wizard, v *view) *display.Page {
	return v.formPage("resend.title", "resend.intro", "btn.submit")
}
