package appliancetest

import (
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/appliance"
)

// TestChangePassword changes the registration password on the screen: a
// wrong current password first, then the change; the old password no
// longer logs in, the new one does.
func TestChangePassword(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(true)
	k.Insert()
	k.login(Password)
	k.Tap(appliance.IDChangePassword)
	k.Want(appliance.ScreenChangePassword)
	k.Fill(appliance.FieldCurrentPassword, "Wrong9!pw")
	k.Fill(appliance.FieldNewPassword, NewPassword)
	if k.UI.Find("strength") == nil {
		t.Errorf("no strength meter")
	}
	k.Fill(appliance.FieldNewPassword2, NewPassword)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenChangePassword)
	if !strings.Contains(k.Texts(), "not correct") {
		t.Fatalf("no wrong-password message:\n%s", k.Texts())
	}
	k.Fill(appliance.FieldCurrentPassword, Password)
	k.Fill(appliance.FieldNewPassword, NewPassword)
	k.Fill(appliance.FieldNewPassword2, NewPassword)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenAccount)
	if !strings.Contains(k.Texts(), "was changed") {
		t.Errorf("no confirmation:\n%s", k.Texts())
	}
	k.Tap(appliance.IDLogout)
	k.Pull()

	k.Insert()
	k.login(Password)
	k.Want(appliance.ScreenLogin)
	k.Fill(appliance.FieldPassword, NewPassword)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenAccount)
}
