package appliance

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// Login is the fake upstream's account side: it accepts u.password and
// hands out a session on u's device list.
func (u *fakeUpstream) Login(_ context.Context, id Identity, pw string) (AccountSession, error) {
	u.proved(id)
	if err := u.call("Login"); err != nil {
		return nil, err
	}
	if pw != u.password {
		return nil, &UpstreamError{Kind: KindWrongPassword}
	}
	return &fakeSession{u: u}, nil
}

// fakeDevices is the device list a fake account starts with (the names are
// the phones', not the person's).
func fakeDevices() []Device {
	at := time.Date(2026, 11, 20, 1, 30, 0, 0, time.UTC)
	return []Device{
		{ID: "dev-1", Name: "TEST PHONE", LinkedAt: at, LastUsed: at},
		{ID: "dev-2", Name: "測試平板", LinkedAt: at.Add(48 * time.Hour), LastUsed: at.Add(72 * time.Hour)},
	}
}

// fakeSession is an account session of the fake upstream.
type fakeSession struct {
	u      *fakeUpstream
	closed bool
}

func (s *fakeSession) Logout(context.Context) error {
	s.closed = true
	return s.u.call("Logout")
}

func (s *fakeSession) Devices(context.Context) ([]Device, error) {
	if err := s.u.call("Devices"); err != nil {
		return nil, err
	}
	return slices.Clone(s.u.devices), nil
}

func (s *fakeSession) RemoveDevice(_ context.Context, id string) error {
	if err := s.u.call("RemoveDevice"); err != nil {
		return err
	}
	i := slices.IndexFunc(s.u.devices, func(d Device) bool { return d.ID == id })
	if i < 0 {
		return &UpstreamError{Kind: KindNotRegistered}
	}
	s.u.devices = slices.Delete(s.u.devices, i, i+1)
	return nil
}

func (d *driver) login(pw string) {
	d.t.Helper()
	d.do(CardInserted{})
	d.tap(IDLogin)
	d.wantScreen(ScreenLogin)
	d.typeIn(FieldPassword, pw)
	d.tap(IDSubmit)
}

func (d *driver) count(call string) int {
	d.up.mu.Lock()
	defer d.up.mu.Unlock()
	n := 0
	for _, c := range d.up.calls {
		if c == call {
			n++
		}
	}
	return n
}

func TestLoginWrongThenRight(t *testing.T) {
	d := newDriver(t)
	d.login("Wrong1!x")
	d.wantScreen(ScreenLogin)
	if d.errs()[FieldPassword] != KindWrongPassword {
		t.Fatalf("errors = %v, want wrong_password under the password", d.errs())
	}
	if d.m.sess.p.value(FieldPassword) != "" {
		t.Errorf("the sent password is still in the field")
	}
	d.typeIn(FieldPassword, testPassword)
	d.tap(IDSubmit)
	d.wantScreen(ScreenAccount)
	d.tap(IDLogout)
	d.wantScreen(ScreenAttract)
	if n := d.count("Logout"); n != 1 {
		t.Errorf("Logout called %d times, want 1", n)
	}
}

func TestLoginLockedLeadsToForgotPassword(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Login"] = &UpstreamError{Kind: KindAccountLocked}
	d.login(testPassword)
	d.wantScreen(ScreenError)
	if d.m.sess.errKind != KindAccountLocked {
		t.Fatalf("errKind = %q", d.m.sess.errKind)
	}
	d.tap(IDForgot)
	d.wantScreen(ScreenForgot)
	d.tap(IDSubmit)
	d.wantScreen(ScreenReset)
}

func TestLoginNotActive(t *testing.T) {
	d := newDriver(t)
	d.up.errs["Login"] = &UpstreamError{Kind: KindNotActive}
	d.login(testPassword)
	d.wantScreen(ScreenError)
	d.tap(IDVerify)
	d.wantScreen(ScreenVerify)
}

func TestDevicesListAndRemove(t *testing.T) {
	d := newDriver(t)
	d.up.devices = fakeDevices()
	d.login(testPassword)
	d.tap(IDDevices)
	d.wantScreen(ScreenDevices)
	if got := len(flowOf[*devices](t, d.m).list); got != 2 {
		t.Fatalf("%d devices on screen, want 2", got)
	}
	d.tap(IDRemoveDevice + "1")
	d.wantScreen(ScreenRemoveDevice)
	d.tap(IDBack)
	d.wantScreen(ScreenDevices)
	d.tap(IDRemoveDevice+"1", IDConfirm)
	d.wantScreen(ScreenDevices)
	if flowOf[*devices](t, d.m).note != "devices.removed" || len(d.up.devices) != 1 || d.up.devices[0].ID != "dev-1" {
		t.Fatalf("after removal: note %q, upstream devices %v", flowOf[*devices](t, d.m).note, d.up.devices)
	}
	// Someone else removed it meanwhile (or it was never theirs): nothing
	// is removed and the list says so.
	d.up.devices = nil
	d.tap(IDRemoveDevice+"0", IDConfirm)
	d.wantScreen(ScreenDevices)
	if note := flowOf[*devices](t, d.m).note; note != "devices.not_found" {
		t.Errorf("note = %q, want devices.not_found", note)
	}
	d.tap(IDRemoveDevice + "7") // no such row
	d.wantScreen(ScreenDevices)
	d.tap(IDBack)
	d.wantScreen(ScreenAccount)
}

func TestAccountEndsOnCardRemovalAndIdle(t *testing.T) {
	d := newDriver(t)
	d.up.devices = fakeDevices()
	d.login(testPassword)
	d.tap(IDDevices)
	d.do(CardRemoved{})
	d.wantScreen(ScreenRemoved)
	if n := d.count("Logout"); n != 1 {
		t.Fatalf("Logout after card removal called %d times, want 1", n)
	}
	d.advance(5 * time.Second)
	d.login(testPassword)
	d.wantScreen(ScreenAccount)
	d.advance(61 * time.Second)
	d.advance(21 * time.Second)
	d.wantScreen(ScreenAttract)
	if n := d.count("Logout"); n != 2 {
		t.Fatalf("Logout after idle timeout: %d calls, want 2", n)
	}
	if strings.Contains(d.logs.String(), "TEST PHONE") {
		t.Errorf("a device name reached the log")
	}
}

func TestAccountSessionEndedUpstream(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.up.errs["Devices"] = &UpstreamError{Kind: KindUnauthorized}
	d.tap(IDDevices)
	d.wantScreen(ScreenError)
	if d.m.sess.account != nil {
		t.Fatalf("the ended session is still kept")
	}
	delete(d.up.errs, "Devices")
	d.tap(IDLogin)
	d.wantScreen(ScreenLogin)
	d.typeIn(FieldPassword, testPassword)
	d.tap(IDSubmit)
	d.wantScreen(ScreenAccount)
}

func TestLoginAnswerAfterCardPulled(t *testing.T) {
	d := newDriver(t)
	d.do(CardInserted{})
	d.tap(IDLogin)
	d.typeIn(FieldPassword, testPassword)
	jobs := d.m.Handle(Tap{ID: IDSubmit})
	d.do(CardRemoved{})
	for _, j := range jobs {
		d.run(d.m.Handle(j(context.Background())))
	}
	d.wantScreen(ScreenRemoved)
	deadline := time.Now().Add(5 * time.Second)
	for d.count("Logout") == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if d.count("Logout") != 1 {
		t.Errorf("a login answered after the card left was not logged out")
	}
}
