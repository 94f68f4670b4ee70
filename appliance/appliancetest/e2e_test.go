package appliancetest

import (
	"strings"
	"testing"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// TestRegisterThenVerify is the citizen's whole visit: register on the
// screen, get the e-mail, come back, type its code, and the account is
// active.
func TestRegisterThenVerify(t *testing.T) {
	k := New(t, Options{})
	k.RegisterUntil(appliance.ScreenReceipt)
	if txt := k.Texts(); !strings.Contains(txt, "申請編號") {
		t.Errorf("receipt shows no reference:\n%s", txt)
	}
	if strings.Contains(k.Texts(), k.Person.Name) {
		t.Errorf("receipt still shows the name after completion")
	}
	code := k.Code(1)
	k.Pull()
	k.Want(appliance.ScreenAttract)

	k.Insert()
	k.Tap(appliance.IDVerify)
	k.Fill(appliance.FieldCode, code)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenResult)
	k.Tap(appliance.IDFinish)
	k.Want(appliance.ScreenAttract)
}

func TestResend(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(false)
	first := k.Code(1)
	k.Insert()
	k.Tap(appliance.IDResend)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenResult)
	if second := k.Code(2); second == "" {
		t.Errorf("no code in the resent e-mail (first was %d digits)", len(first))
	}
}

func TestForgotPassword(t *testing.T) {
	k := New(t, Options{})
	k.RegisterByAPI(true)
	k.Insert()
	k.Tap(appliance.IDForgot)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenReset)
	k.Fill(appliance.FieldCode, k.Code(2))
	k.Fill(appliance.FieldPassword, NewPassword)
	k.Fill(appliance.FieldPassword2, NewPassword)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenResult)
}

func TestDeleteApplication(t *testing.T) {
	k := New(t, Options{})
	k.RegisterByAPI(false)
	k.Insert()
	k.Tap(appliance.IDDelete)
	k.Fill(appliance.FieldPassword, "Wrong9!pw")
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenDelete)
	if !strings.Contains(k.Texts(), "密碼不正確") {
		t.Errorf("no wrong-password message under the field:\n%s", k.Texts())
	}
	k.Fill(appliance.FieldPassword, Password)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenResult)
	k.Tap(appliance.IDFinish)
	k.Pull()

	// Nothing left to delete: the kiosk offers to register instead.
	k.Insert()
	k.Tap(appliance.IDDelete)
	k.Fill(appliance.FieldPassword, Password)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	if k.Find(appliance.IDRegister) == nil {
		t.Errorf("not-registered error offers no registration")
	}
}

// TestUpstreamDownQueues registers while the upstream cannot be reached
// (after it checked the card): the kiosk says it is queued; once the
// upstream is back the outbox sends it, with the card's proof, and the
// e-mail follows.
func TestUpstreamDownQueues(t *testing.T) {
	k := New(t, Options{})
	k.RegisterUntil(appliance.ScreenReview)
	k.SetDownFor(upstream.PathRegistrations)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenReceipt)
	if !strings.Contains(k.Texts(), "稍後送出") {
		t.Errorf("receipt does not say the application is queued:\n%s", k.Texts())
	}
	if n, err := k.Client.Outbox().Len(); err != nil || n != 1 {
		t.Fatalf("outbox holds %d (%v), want 1", n, err)
	}
	k.SetDownFor("")
	if err := k.Client.Outbox().Flush(t.Context(), k.Client.SendQueued); err != nil {
		t.Fatalf("flush outbox: %v", err)
	}
	if code := k.Code(1); len(code) != 6 {
		t.Errorf("confirmation code %q", code)
	}
}

// TestAlreadyRegistered registers twice: the second time the kiosk offers
// the verification and resend.
func TestAlreadyRegistered(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(false)
	k.RegisterUntil(appliance.ScreenReview)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenError)
	if !strings.Contains(k.Texts(), "already registered") {
		t.Errorf("error screen does not say already registered:\n%s", k.Texts())
	}
	k.Tap(appliance.IDVerify)
	k.Want(appliance.ScreenVerify)
	k.Fill(appliance.FieldCode, k.Code(1))
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenResult)
}
