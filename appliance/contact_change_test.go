package appliance

import (
	"context"
	"testing"
)

func (s *fakeSession) Contact(context.Context) (Contact, error) {
	if err := s.u.call("Contact"); err != nil {
		return Contact{}, err
	}
	return s.u.contact, nil
}

func (s *fakeSession) ChangeContact(_ context.Context, c Contact) (bool, error) {
	if err := s.u.call("ChangeContact"); err != nil {
		return false, err
	}
	pending := c.Email != s.u.contact.Email
	c.Email = s.u.contact.Email
	s.u.contact = c
	return pending, nil
}

func (s *fakeSession) ConfirmEmail(_ context.Context, code string) error {
	if err := s.u.call("ConfirmEmail"); err != nil {
		return err
	}
	if code != s.u.code {
		return &UpstreamError{Kind: KindBadCode}
	}
	return nil
}

func fakeContact() Contact {
	return Contact{PhoneArea: "02", PhoneNumber: "27065866", Mobile: "0912345678", Email: testEmail}
}

func TestChangeContactPhoneOnly(t *testing.T) {
	d := newDriver(t)
	d.up.contact = fakeContact()
	d.login(testPassword)
	d.tap(IDContact)
	d.wantScreen(ScreenAccountContact)
	if d.m.sess.p.value(FieldMobile) != "0912345678" || d.m.sess.p.value(FieldEmail) != testEmail {
		t.Fatalf("the fields are not prefilled")
	}
	d.typeIn(FieldMobile, "0812")
	d.tap(IDSubmit)
	d.wantScreen(ScreenAccountContact)
	if d.errs()[FieldMobile] == "" || d.count("ChangeContact") != 0 {
		t.Fatalf("a bad mobile was not caught: %v", d.errs())
	}
	d.typeIn(FieldMobile, "0987654321")
	d.tap(IDSubmit)
	d.wantScreen(ScreenAccount)
	if note := flowOf[*account](t, d.m).note; d.up.contact.Mobile != "0987654321" || note != "contact.changed" {
		t.Errorf("mobile %q note %q", d.up.contact.Mobile, note)
	}
	if d.m.sess.p.value(FieldMobile) != "" {
		t.Errorf("the sent contact data stays in the fields")
	}
}

func TestChangeContactEmailConfirmed(t *testing.T) {
	d := newDriver(t)
	d.up.contact = fakeContact()
	d.login(testPassword)
	d.tap(IDContact)
	d.typeIn(FieldEmail, "new.one@example.com")
	d.tap(IDSubmit)
	d.wantScreen(ScreenConfirmEmail)
	d.typeIn(FieldCode, "654321")
	d.tap(IDSubmit)
	d.wantScreen(ScreenConfirmEmail)
	if d.errs()[FieldCode] != KindBadCode {
		t.Fatalf("errors %v", d.errs())
	}
	d.typeIn(FieldCode, "123456")
	d.tap(IDSubmit)
	d.wantScreen(ScreenAccount)
	if note := flowOf[*account](t, d.m).note; note != "contact.email_changed" {
		t.Errorf("note %q", note)
	}
}

func TestChangeContactTooManyTries(t *testing.T) {
	d := newDriver(t)
	d.up.contact = fakeContact()
	d.login(testPassword)
	d.tap(IDContact)
	d.typeIn(FieldEmail, "new.one@example.com")
	d.tap(IDSubmit)
	d.up.errs["ConfirmEmail"] = &UpstreamError{Kind: KindLocked}
	d.typeIn(FieldCode, "654321")
	d.tap(IDSubmit)
	d.wantScreen(ScreenError)
	d.tap(IDMenu)
	d.wantScreen(ScreenAccount)
}
