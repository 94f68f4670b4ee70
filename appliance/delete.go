package appliance

import (
	"context"

	"github.com/nhikiosk/nhikiosk/display"
)

// ScreenDelete deletes a registration application (刪除註冊申請),
// confirmed by its password.
const ScreenDelete ScreenID = "delete"

// IDDelete starts it from the menu.
const IDDelete = "menu.delete"

var deleteScreens = map[ScreenID]screenSpec{ScreenDelete: {fields: []FieldID{FieldPassword}}}

// deletion deletes the card holder's registration application.
type deletion struct{}

func newDelete() flow { return &deletion{} }

func (*deletion) screens() map[ScreenID]screenSpec { return deleteScreens }

func (*deletion) start(w wizard) []Job {
	w.goTo(ScreenDelete)
	return nil
}

func (*deletion) tap(w wizard, id string) []Job {
	switch id {
	case IDBack:
		w.back("")
	case IDSubmit:
		if !w.check() {
			return nil
		}
		return w.checkCard(PurposeCancellation, ScreenDelete, func(w wizard, card Identity) []Job {
			pw, up := w.person().value(FieldPassword), w.upstream()
			return w.call(ScreenDelete, "busy.delete", "result.deleted",
				func(ctx context.Context) error { return up.Cancel(ctx, card, pw) })
		})
	}
	return nil
}

func (*deletion) page(w wizard, v *view) *display.Page {
	return v.formPage("delete.title", "delete.intro", "delete.confirm", v.field(FieldPassword, "field.password"))
}
