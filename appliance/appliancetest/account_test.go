package appliancetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// phone is the test's phone: it links a device to the test person's
// account the way the phone app does (a kiosk session starts a binding,
// the phone presents its code) and returns the device.
func (k *Kiosk) phone(name string) upstream.Device {
	k.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := k.Client.Login(ctx, k.Person.CardNumber, k.Person.IDNumber, Password)
	if err != nil {
		k.T.Fatalf("login by API: %v", err)
	}
	defer s.Logout(ctx)
	b, err := s.StartBinding(ctx, upstream.ViaScreen)
	if err != nil {
		k.T.Fatalf("start binding by API: %v", err)
	}
	d, err := k.Client.Bind(ctx, b.Code, name)
	if err != nil {
		k.T.Fatalf("bind: %v", err)
	}
	return d
}

// devices lists the test person's devices through the API.
func (k *Kiosk) devices() []upstream.Device {
	k.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := k.Client.Login(ctx, k.Person.CardNumber, k.Person.IDNumber, Password)
	if err != nil {
		k.T.Fatalf("login by API: %v", err)
	}
	defer s.Logout(ctx)
	ds, err := s.Devices(ctx)
	if err != nil {
		k.T.Fatalf("devices by API: %v", err)
	}
	return ds
}

func (k *Kiosk) login(pw string) {
	k.T.Helper()
	k.Tap(appliance.IDLogin)
	k.Want(appliance.ScreenLogin)
	k.Fill(appliance.FieldPassword, pw)
	k.Tap(appliance.IDSubmit)
}

// wantLoggedOut checks the kiosk's account session was ended at the
// upstream (the logout was answered) for reason.
func (k *Kiosk) wantLoggedOut(reason string) {
	k.T.Helper()
	want := `"msg":"logged out","reason":"` + reason + `","err_kind":"ok"`
	if !strings.Contains(k.Logs.String(), want) {
		k.T.Errorf("no successful logout for %s in the logs", reason)
	}
}

// TestAccountDevices logs in (a wrong password first), lists the devices
// a phone linked, removes one, and pulls the card, which logs out.
func TestAccountDevices(t *testing.T) {
	k := New(t, Options{Lang: appliance.LangEn})
	k.RegisterByAPI(true)
	k.phone("TEST PHONE A")
	k.phone("TEST PHONE B")

	k.Insert()
	k.login("Wrong9!pw")
	k.Want(appliance.ScreenLogin)
	if !strings.Contains(k.Texts(), "not correct") {
		t.Errorf("no wrong-password message:\n%s", k.Texts())
	}
	k.Fill(appliance.FieldPassword, Password)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenAccount)
	k.Tap(appliance.IDDevices)
	k.Want(appliance.ScreenDevices)
	if txt := k.Texts(); !strings.Contains(txt, "TEST PHONE A") || !strings.Contains(txt, "TEST PHONE B") {
		t.Fatalf("the device list misses a device:\n%s", txt)
	}
	k.Tap(appliance.IDRemoveDevice + "0")
	k.Want(appliance.ScreenRemoveDevice)
	k.Tap(appliance.IDConfirm)
	k.Want(appliance.ScreenDevices)
	if txt := k.Texts(); strings.Contains(txt, "TEST PHONE A") || !strings.Contains(txt, "was removed") {
		t.Errorf("after removal the list shows:\n%s", txt)
	}
	if ds := k.devices(); len(ds) != 1 || ds[0].Name != "TEST PHONE B" {
		t.Errorf("upstream devices after removal = %+v", ds)
	}
	k.Pull()
	k.Want(appliance.ScreenRemoved)
	k.wantLoggedOut("card_removed")
}

// TestAccountRemoveGoneDevice removes a device that is no longer the
// account's (unlinked elsewhere after the list was shown): the upstream
// refuses with not_found, nothing else is removed and the list says so.
func TestAccountRemoveGoneDevice(t *testing.T) {
	k := New(t, Options{})
	k.RegisterByAPI(true)
	gone := k.phone("TEST PHONE A")
	k.phone("TEST PHONE B")
	k.Insert()
	k.login(Password)
	k.Tap(appliance.IDDevices)
	k.Want(appliance.ScreenDevices)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := k.Client.Login(ctx, k.Person.CardNumber, k.Person.IDNumber, Password)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDevice(ctx, gone.DeviceID); err != nil {
		t.Fatal(err)
	}
	s.Logout(ctx)

	k.Tap(appliance.IDRemoveDevice + "0")
	k.Tap(appliance.IDConfirm)
	k.Want(appliance.ScreenDevices)
	if txt := k.Texts(); !strings.Contains(txt, "未連結至您的帳號") || !strings.Contains(txt, "TEST PHONE B") {
		t.Errorf("after removing a gone device the list shows:\n%s", txt)
	}
	if ds := k.devices(); len(ds) != 1 {
		t.Errorf("upstream devices = %d, want 1", len(ds))
	}
	k.Tap(appliance.IDBack)
	k.Tap(appliance.IDLogout)
	k.Want(appliance.ScreenAttract)
	k.wantLoggedOut("finished")
}

// TestAccountLockedThenReset types 5 wrong passwords, is told the account
// is locked, sets a new password through forgot password (which unlocks)
// and logs in with it.
func TestAccountLockedThenReset(t *testing.T) {
	k := New(t, Options{})
	k.RegisterByAPI(true)
	k.Insert()
	for i := range 5 {
		k.login("Wrong9!pw")
		if i < 4 {
			k.Want(appliance.ScreenLogin)
			k.Tap(appliance.IDBack)
		}
	}
	k.Want(appliance.ScreenError)
	if !strings.Contains(k.Texts(), "帳號已鎖定") {
		t.Fatalf("no locked message:\n%s", k.Texts())
	}
	k.Tap(appliance.IDForgot)
	k.Want(appliance.ScreenForgot)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenReset)
	k.Fill(appliance.FieldCode, k.Code(2))
	k.Fill(appliance.FieldPassword, NewPassword)
	k.Fill(appliance.FieldPassword2, NewPassword)
	k.Tap(appliance.IDSubmit)
	k.Want(appliance.ScreenResult)
	k.Tap(appliance.IDFinish)
	k.Pull()

	k.Insert()
	k.login(NewPassword)
	k.Want(appliance.ScreenAccount)
}

// TestAccountIdleTimeout logs in and walks away: the idle warning, then
// the session ends and is logged out at the upstream.
func TestAccountIdleTimeout(t *testing.T) {
	k := New(t, Options{})
	k.RegisterByAPI(true)
	k.Insert()
	k.login(Password)
	k.Want(appliance.ScreenAccount)
	k.Wait(61 * time.Second)
	if on, _ := k.K.Machine().Warning(); !on {
		t.Fatalf("no idle warning after a minute")
	}
	k.Wait(21 * time.Second)
	k.Want(appliance.ScreenAttract)
	k.wantLoggedOut("idle_timeout")
}
