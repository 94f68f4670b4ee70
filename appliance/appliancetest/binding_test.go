package appliancetest

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/upstream"
)

var shownCode = regexp.MustCompile(`\b(\d{4}) (\d{4})\b`)

// shownCode reads the binding code off the screen, as the person would
// type it into the phone.
func (k *Kiosk) shownCode() string {
	k.T.Helper()
	m := shownCode.FindStringSubmatch(k.Texts())
	if m == nil {
		k.T.Fatalf("no 8-digit code on screen:\n%s", k.Texts())
	}
	return m[1] + m[2]
}

// bind is the phone presenting code; it returns the upstream's error code
// ("" when linked).
func (k *Kiosk) bind(code, name string) string {
	k.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := k.Client.Bind(ctx, code, name)
	var ue *upstream.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ue):
		return ue.Code
	}
	k.T.Fatalf("bind: %v", err)
	return ""
}

// TestBindingLinked shows a code with its QR and countdown, plays the
// phone presenting it, and sees "linked: <name>" arrive through the
// long-poll; the same code a second time is refused.
func TestBindingLinked(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(true)
	k.Insert()
	k.login(Password)
	k.Tap(appliance.IDBind)
	k.Want(appliance.ScreenBind)
	if k.UI.Find("bind.qr") == nil || !strings.Contains(k.Texts(), "Valid for 5:00") {
		t.Fatalf("no QR code or countdown:\n%s", k.Texts())
	}
	code := k.shownCode()
	k.Wait(time.Second)
	if !strings.Contains(k.Texts(), "Valid for 4:59") {
		t.Errorf("the countdown does not run:\n%s", k.Texts())
	}
	if c := k.bind(code, "TEST PHONE"); c != "" {
		t.Fatalf("bind refused: %s", c)
	}
	k.Wait(time.Second)
	k.Want(appliance.ScreenLinked)
	if !strings.Contains(k.Texts(), "Linked: TEST PHONE") {
		t.Errorf("linked screen shows:\n%s", k.Texts())
	}
	if c := k.bind(code, "OTHER PHONE"); c != upstream.ErrCodeCodeUsed {
		t.Errorf("the code used twice: %q, want code_used", c)
	}
	if ds := k.devices(); len(ds) != 1 || ds[0].Name != "TEST PHONE" {
		t.Errorf("devices = %+v", ds)
	}
	k.Tap(appliance.IDLogout)
	k.Want(appliance.ScreenAttract)
	k.wantLoggedOut("finished")
}

// TestBindingExpired lets the code's 5 minutes pass at the upstream: the
// kiosk offers a new code, and the phone's late try is refused.
func TestBindingExpired(t *testing.T) {
	k := New(t, Options{})
	k.RegisterByAPI(true)
	k.Insert()
	k.login(Password)
	k.Tap(appliance.IDBind)
	old := k.shownCode()
	k.Later(5*time.Minute + time.Second)
	k.Wait(time.Second)
	k.Want(appliance.ScreenBindExpired)
	if c := k.bind(old, "TEST PHONE"); c != upstream.ErrCodeExpired {
		t.Errorf("the expired code: %q, want expired", c)
	}
	k.Tap(appliance.IDNewCode)
	k.Want(appliance.ScreenBind)
	if code := k.shownCode(); code == old {
		t.Errorf("the new code is the old one")
	}
	k.Pull()
	k.Want(appliance.ScreenRemoved)
	k.wantLoggedOut("card_removed")
}

var smsCode = regexp.MustCompile(`sms to \*+\d{3} binding code=(\d{8})`)

// TestBindingBySMS sends the code to the registered mobile: the kiosk
// shows the masked number and the countdown, the phone types the code
// from the SMS (nhisim prints what it cannot send), and the kiosk sees
// it linked.
func TestBindingBySMS(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(true)
	k.Insert()
	k.login(Password)
	k.Tap(appliance.IDBindSMS)
	k.Want(appliance.ScreenBind)
	txt := k.Texts()
	if !strings.Contains(txt, "*******678") || !strings.Contains(txt, "Valid for 5:00") || shownCode.MatchString(txt) {
		t.Fatalf("SMS binding screen shows:\n%s", txt)
	}
	// The SMS leaves through nhisim's queue, after the answer.
	var m []string
	for deadline := time.Now().Add(5 * time.Second); m == nil && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		m = smsCode.FindStringSubmatch(k.SMS.String())
	}
	if m == nil {
		t.Fatalf("no SMS recorded")
	}
	if c := k.bind(m[1], "TEST PHONE"); c != "" {
		t.Fatalf("bind refused: %s", c)
	}
	k.Wait(time.Second)
	k.Want(appliance.ScreenLinked)
	if strings.Contains(k.Logs.String(), m[1]) {
		t.Errorf("the binding code reached the logs")
	}
}
