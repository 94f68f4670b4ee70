package appliance

import (
	"context"
	"errors"
)

// Contact is the account's contact data (帳號資料異動), as the change screen
// shows and sends it. Its strings are copies made for one call.
type Contact struct {
	PhoneArea, PhoneNumber, PhoneExt string
	Mobile, Email, BackupEmail       string
}

// String keeps a Contact out of logs and error messages.
func (Contact) String() string { return "Contact{redacted}" }

// GoString keeps a Contact out of %#v.
func (Contact) GoString() string { return "Contact{redacted}" }

// Screens of the change of account data.
const (
	ScreenAccountContact ScreenID = "account_contact"
	ScreenConfirmEmail   ScreenID = "confirm_email"
)

// IDContact opens the change of account data from the account menu.
const IDContact = "account.contact"

// contactFields are the fields of the change, checked by the
// registration's rules.
var contactFields = []FieldID{FieldPhoneArea, FieldPhoneNumber, FieldPhoneExt, FieldMobile, FieldEmail, FieldBackupEmail}

func init() {
	screenFields[ScreenAccountContact] = contactFields
	screenFields[ScreenConfirmEmail] = []FieldID{FieldCode}
}

// loadContact fetches the account's contact data into the fields.
func (m *Machine) loadContact() []Job {
	s := m.sess
	s.busyKey = "busy.contact"
	m.goTo(ScreenBusy)
	sess, as := s.id, s.acct.s
	return []Job{func(ctx context.Context) Event {
		c, err := as.Contact(ctx)
		return result{session: sess, apply: func(m *Machine) []Job {
			if m.sess.acct == nil {
				return nil
			}
			if err != nil {
				return m.accountRefused(err, ScreenAccount)
			}
			p := m.sess.p
			for f, v := range map[FieldID]string{FieldPhoneArea: c.PhoneArea, FieldPhoneNumber: c.PhoneNumber,
				FieldPhoneExt: c.PhoneExt, FieldMobile: c.Mobile, FieldEmail: c.Email, FieldBackupEmail: c.BackupEmail} {
				zero(p.fields[f])
				p.fields[f] = append(make([]byte, 0, fieldSpecs[f].max), v...)
			}
			m.goTo(ScreenAccountContact)
			return nil
		}}
	}}
}

// tapContact handles the change of account data; it reports whether it
// did.
func (m *Machine) tapContact(id string) ([]Job, bool) {
	if m.screen != ScreenAccountContact && m.screen != ScreenConfirmEmail {
		return nil, false
	}
	switch id {
	case IDBack:
		m.dropFields(append(contactFields, FieldCode))
		m.toAccount("")
	case IDSubmit:
		if !m.checkScreen() {
			return nil, true
		}
		if m.screen == ScreenConfirmEmail {
			return m.confirmEmail(), true
		}
		return m.changeContact(), true
	}
	return nil, true
}

func (m *Machine) changeContact() []Job {
	s := m.sess
	p := s.p
	c := Contact{PhoneArea: p.value(FieldPhoneArea), PhoneNumber: p.value(FieldPhoneNumber), PhoneExt: p.value(FieldPhoneExt),
		Mobile: p.value(FieldMobile), Email: p.value(FieldEmail), BackupEmail: p.value(FieldBackupEmail)}
	s.busyKey = "busy.contact_change"
	m.goTo(ScreenBusy)
	sess, as := s.id, s.acct.s
	return []Job{func(ctx context.Context) Event {
		pending, err := as.ChangeContact(ctx, c)
		return result{session: sess, apply: func(m *Machine) []Job {
			if m.sess.acct == nil {
				return nil
			}
			if err != nil {
				return m.contactRefused(err, ScreenAccountContact)
			}
			m.dropFields(contactFields)
			m.opt.Log.Info("contact changed", "session", sess, "email_pending", pending)
			if pending {
				m.goTo(ScreenConfirmEmail)
				return nil
			}
			m.toAccount("contact.changed")
			return nil
		}}
	}}
}

func (m *Machine) confirmEmail() []Job {
	s := m.sess
	code := s.p.value(FieldCode)
	s.busyKey = "busy.verify"
	m.goTo(ScreenBusy)
	sess, as := s.id, s.acct.s
	return []Job{func(ctx context.Context) Event {
		err := as.ConfirmEmail(ctx, code)
		return result{session: sess, apply: func(m *Machine) []Job {
			if m.sess.acct == nil {
				return nil
			}
			if err != nil {
				return m.contactRefused(err, ScreenConfirmEmail)
			}
			m.dropFields([]FieldID{FieldCode})
			m.opt.Log.Info("email changed", "session", sess)
			m.toAccount("contact.email_changed")
			return nil
		}}
	}}
}

// contactRefused shows field errors and a wrong code next to their
// fields, anything else as for the other account services.
func (m *Machine) contactRefused(err error, from ScreenID) []Job {
	var ue *UpstreamError
	if errors.As(err, &ue) && (ue.Kind == KindInvalid || ue.Kind == KindBadCode) {
		return m.upstreamRefused(err, from)
	}
	return m.accountRefused(err, from)
}
