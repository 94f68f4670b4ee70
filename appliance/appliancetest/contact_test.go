package appliancetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/display"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// TestChangeContactEmail changes the mobile and the primary e-mail: the
// fields come prefilled, a bad mobile is caught as typed, the code sent
// to the new address (read back from Mailpit) confirms it after a wrong
// one, and the upstream then has the new data.
func TestChangeContactEmail(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(true)
	newEmail := "new-" + k.Email
	k.Insert()
	k.login(Password)
	k.Tap(appliance.IDContact)
	k.Want(appliance.ScreenAccountContact)
	if got := string(k.Find("field.email").(*display.Field).Value()); got != k.Email {
		t.Fatalf("the e-mail field is not prefilled")
	}
	k.Fill(appliance.FieldMobile, "0812")
	if !strings.Contains(k.Texts(), "10 digits") {
		t.Errorf("no mobile error as typed:\n%s", k.Texts())
	}
	k.Fill(appliance.FieldMobile, "0987654321")
	k.Fill(appliance.FieldEmail, newEmail)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenConfirmEmail)
	code := upstreamtest.CodeIn(t, k.Mail.Wait(t, newEmail, 1).Text)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	k.Fill(appliance.FieldCode, wrong)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenConfirmEmail)
	k.Fill(appliance.FieldCode, code)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenAccount)
	if !strings.Contains(k.Texts(), "is confirmed") {
		t.Errorf("no confirmation:\n%s", k.Texts())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := k.Client.Login(ctx, k.Person.CardNumber, k.Person.IDNumber, Password)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Logout(ctx)
	a, err := s.Account(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a.Contact.Email != newEmail || a.Contact.Mobile != "0987654321" || a.PendingEmail != "" {
		t.Errorf("upstream contact after the change: e-mail new %t, mobile new %t, pending %t",
			a.Contact.Email == newEmail, a.Contact.Mobile == "0987654321", a.PendingEmail != "")
	}
	k.Pull()
	k.wantLoggedOut("card_removed")
	for _, v := range []string{newEmail, "0987654321", "0912345678"} {
		if strings.Contains(k.Logs.String(), v) {
			t.Errorf("logs contain contact data %q", v)
		}
	}
}
