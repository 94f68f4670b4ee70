package appliance

import (
	"context"
	"slices"

	"github.com/nhikiosk/nhikiosk/display"
)

// Screens of the account services: log in, then the account menu.
const (
	ScreenLogin   ScreenID = "login"
	ScreenAccount ScreenID = "account"
)

// IDLogin starts the account services from the menu.
const IDLogin = "menu.login"

var accountScreens = map[ScreenID]screenSpec{
	ScreenLogin:   {fields: []FieldID{FieldPassword}},
	ScreenAccount: {},
}

// account is a logged-in person's visit to the account services (issue
// 8): log in with the card and the registration password, then the
// account menu, whose services (accountFlows) come back to it.
type account struct {
	// note is a message key shown above the menu: what the last service
	// did ("password.changed").
	note string
}

func newAccount() flow { return &account{} }

func (a *account) screens() map[ScreenID]screenSpec { return accountScreens }

func (a *account) start(w wizard) []Job {
	w.goTo(ScreenLogin)
	return nil
}

func (a *account) tap(w wizard, id string) []Job {
	switch w.screen() {
	case ScreenLogin:
		switch id {
		case IDBack:
			w.back("")
		case IDSubmit:
			return a.login(w)
		}
	case ScreenAccount:
		if i := slices.IndexFunc(accountFlows, func(e entry) bool { return e.id == id }); i >= 0 {
			return w.start(accountFlows[i])
		}
		if id == IDLogout || id == IDFinish {
			w.finish()
		}
	}
	return nil
}

// resume shows the account menu with a note, or the menu if the person is
// not logged in (the login failed).
func (a *account) resume(w wizard, note string) {
	if w.account() == nil {
		w.toMenu()
		return
	}
	w.clearErrs()
	a.note = note
	w.goTo(ScreenAccount)
}

// login sends the card and the password; the password is zeroed from the
// field once sent.
func (a *account) login(w wizard) []Job {
	p := w.person()
	if p.value(FieldPassword) == "" {
		w.setErr(FieldPassword, "required")
		w.point(FieldPassword)
		return nil
	}
	return w.checkCard(PurposeLogin, ScreenLogin, func(w wizard, card Identity) []Job {
		p := w.person()
		au := w.upstream().(AccountUpstream) // the menu offers login only then
		pw := p.value(FieldPassword)
		p.drop(FieldPassword)
		w.busy("busy.login")
		return []Job{w.jobOr(func(ctx context.Context) (reply, func()) {
			as, err := au.Login(ctx, card, pw)
			return func(w wizard) []Job {
				if err != nil {
					return w.refused(err, ScreenLogin)
				}
				w.loggedIn(as)
				w.info("logged in")
				a.resume(w, "")
				return nil
			}, func() { logoutLater(as) }
		})}
	})
}

func (a *account) page(w wizard, v *view) *display.Page {
	if w.screen() == ScreenLogin {
		return &display.Page{
			ID:     string(ScreenLogin),
			Header: display.NewHeader("header", display.M("login.title"), 0, 0),
			Body:   []display.Widget{label("login.intro", "login.intro"), v.field(FieldPassword, "field.password")},
			Footer: []display.Widget{v.button(IDBack, "btn.back", display.Secondary), v.button(IDSubmit, "login.submit", display.Primary)},
		}
	}
	body := v.note(a.note)
	for _, e := range accountFlows {
		body = append(body, v.button(e.id, e.label, display.Secondary))
	}
	return &display.Page{
		ID:     string(ScreenAccount),
		Header: display.NewHeader("header", display.M("account.title"), 0, 0),
		Body:   body,
		Footer: []display.Widget{v.button(IDLogout, "account.logout", display.Primary)},
	}
}
