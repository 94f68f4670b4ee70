package appliance

import (
	"context"

	"github.com/nhikiosk/nhikiosk/display"
)

// Screens of the change of account data (帳號資料異動).
const (
	ScreenAccountContact ScreenID = "account_contact"
	ScreenConfirmEmail   ScreenID = "confirm_email"
)

// IDContact opens the change of account data from the account menu.
const IDContact = "account.contact"

// contactFields are the fields of the change, checked by the
// registration's rules.
var contactFields = []FieldID{FieldPhoneArea, FieldPhoneNumber, FieldPhoneExt, FieldMobile, FieldEmail, FieldBackupEmail}

var contactScreens = map[ScreenID]screenSpec{
	ScreenAccountContact: {fields: contactFields},
	ScreenConfirmEmail:   {fields: []FieldID{FieldCode}},
}

// contactChange changes the account's phones and e-mails: prefilled from
// the upstream, checked as typed; a new primary e-mail waits for the code
// sent to it. The fields are zeroed once sent.
type contactChange struct {
	from ScreenID // where it was started (the account menu)
}

func newContactChange() flow { return &contactChange{} }

func (c *contactChange) screens() map[ScreenID]screenSpec { return contactScreens }

// start fetches the account's contact data into the fields.
func (c *contactChange) start(w wizard) []Job {
	c.from = w.screen()
	w.busy("busy.contact")
	as := w.account()
	return []Job{w.job(func(ctx context.Context) reply {
		got, err := as.Contact(ctx)
		return func(w wizard) []Job {
			if err != nil {
				return w.refused(err, c.from)
			}
			p := w.person()
			for f, v := range map[FieldID]string{FieldPhoneArea: got.PhoneArea, FieldPhoneNumber: got.PhoneNumber,
				FieldPhoneExt: got.PhoneExt, FieldMobile: got.Mobile, FieldEmail: got.Email, FieldBackupEmail: got.BackupEmail} {
				p.set(f, v)
			}
			w.goTo(ScreenAccountContact)
			return nil
		}
	})}
}

func (c *contactChange) tap(w wizard, id string) []Job {
	switch id {
	case IDBack:
		w.person().drop(append(contactFields, FieldCode)...)
		w.back("")
	case IDSubmit:
		switch {
		case !w.check():
		case w.screen() == ScreenConfirmEmail:
			return c.confirm(w)
		default:
			return c.change(w)
		}
	}
	return nil
}

func (c *contactChange) change(w wizard) []Job {
	p := w.person()
	ct := Contact{PhoneArea: p.value(FieldPhoneArea), PhoneNumber: p.value(FieldPhoneNumber), PhoneExt: p.value(FieldPhoneExt),
		Mobile: p.value(FieldMobile), Email: p.value(FieldEmail), BackupEmail: p.value(FieldBackupEmail)}
	w.busy("busy.contact_change")
	as := w.account()
	return []Job{w.job(func(ctx context.Context) reply {
		pending, err := as.ChangeContact(ctx, ct)
		return func(w wizard) []Job {
			if err != nil {
				return w.refused(err, ScreenAccountContact)
			}
			w.person().drop(contactFields...)
			w.info("contact changed", "email_pending", pending)
			if pending {
				w.goTo(ScreenConfirmEmail)
				return nil
			}
			w.back("contact.changed")
			return nil
		}
	})}
}

func (c *contactChange) confirm(w wizard) []Job {
	code := w.person().value(FieldCode)
	w.busy("busy.verify")
	as := w.account()
	return []Job{w.job(func(ctx context.Context) reply {
		err := as.ConfirmEmail(ctx, code)
		return func(w wizard) []Job {
			if err != nil {
				return w.refused(err, ScreenConfirmEmail)
			}
			w.person().drop(FieldCode)
			w.info("email changed")
			w.back("contact.email_changed")
			return nil
		}
	})}
}

func (c *contactChange) page(w wizard, v *view) *display.Page {
	back := v.button(IDBack, "btn.back", display.Secondary)
	submit := v.button(IDSubmit, "btn.submit", display.Primary)
	if w.screen() == ScreenConfirmEmail {
		return &display.Page{
			ID:     string(ScreenConfirmEmail),
			Header: display.NewHeader("header", display.M("confirm_email.title"), 0, 0),
			Body:   []display.Widget{label("confirm_email.intro", "confirm_email.intro"), v.field(FieldCode, "field.code")},
			Footer: []display.Widget{back, submit},
		}
	}
	return &display.Page{
		ID:     string(ScreenAccountContact),
		Header: display.NewHeader("header", display.M("account.contact"), 0, 0),
		Body: []display.Widget{label("account_contact.intro", "account_contact.intro"),
			display.NewRow("phone", v.field(FieldPhoneArea, "field.phone_area"), v.field(FieldPhoneNumber, "field.phone_number"), v.field(FieldPhoneExt, "field.phone_ext")),
			v.field(FieldMobile, "field.mobile"), v.field(FieldEmail, "field.email"), v.field(FieldBackupEmail, "field.backup_email")},
		Footer: []display.Widget{back, submit},
	}
}
