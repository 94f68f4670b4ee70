package appliance

import (
	"context"
	"testing"
)

func (s *fakeSession) ChangePassword(_ context.Context, cur, next string) error {
	if err := s.u.call("ChangePassword"); err != nil {
		return err
	}
	if cur != s.u.password {
		return &UpstreamError{Kind: KindWrongPassword}
	}
	s.u.password = next
	return nil
}

const newTestPassword = "Xyz98#ab"

func (d *driver) changePassword(cur, next, again string) {
	d.typeIn(FieldCurrentPassword, cur)
	d.typeIn(FieldNewPassword, next)
	d.typeIn(FieldNewPassword2, again)
	d.tap(IDSubmit)
}

func TestChangePassword(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.tap(IDChangePassword)
	d.wantScreen(ScreenChangePassword)

	d.changePassword(testPassword, testPassword, testPassword)
	d.wantScreen(ScreenChangePassword)
	if d.errs()[FieldNewPassword] != "same_as_old" || d.count("ChangePassword") != 0 {
		t.Fatalf("same as old: errors %v, calls %v", d.errs(), d.up.calls)
	}
	d.changePassword(testPassword, newTestPassword, "Xyz98#ac")
	if d.errs()[FieldNewPassword2] != codeMismatch || d.count("ChangePassword") != 0 {
		t.Fatalf("mismatch: errors %v", d.errs())
	}
	d.changePassword("Wrong1!x", newTestPassword, newTestPassword)
	d.wantScreen(ScreenChangePassword)
	if d.errs()[FieldCurrentPassword] != KindWrongPassword {
		t.Fatalf("wrong current: errors %v", d.errs())
	}
	for _, f := range passwordFields {
		if d.m.sess.p.value(f) != "" {
			t.Errorf("%s still holds what was sent", f)
		}
	}
	d.changePassword(testPassword, newTestPassword, newTestPassword)
	d.wantScreen(ScreenAccount)
	if note := flowOf[*account](t, d.m).note; d.up.password != newTestPassword || note != "password.changed" {
		t.Errorf("password %q, note %q", d.up.password, note)
	}
}

func TestChangePasswordLocked(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.tap(IDChangePassword)
	d.up.errs["ChangePassword"] = &UpstreamError{Kind: KindAccountLocked}
	d.changePassword("Wrong1!x", newTestPassword, newTestPassword)
	d.wantScreen(ScreenError)
	if d.m.sess.account != nil {
		t.Errorf("the locked session is still kept")
	}
	d.tap(IDForgot)
	d.wantScreen(ScreenForgot)
}

func TestChangePasswordInvalidFromUpstream(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.tap(IDChangePassword)
	d.up.errs["ChangePassword"] = &UpstreamError{Kind: KindInvalid, Fields: []FieldProblem{{Field: FieldPassword, Code: "characters"}}}
	d.changePassword(testPassword, newTestPassword, newTestPassword)
	d.wantScreen(ScreenChangePassword)
	if d.errs()[FieldNewPassword] != "characters" {
		t.Errorf("errors %v", d.errs())
	}
}
