package appliance

import (
	"context"
	"testing"
	"time"
)

func (s *fakeSession) StartBinding(_ context.Context, via string) (Binding, error) {
	if err := s.u.call("StartBinding"); err != nil {
		return Binding{}, err
	}
	s.u.mu.Lock()
	defer s.u.mu.Unlock()
	s.u.bindings++
	if via == ViaSMS {
		return Binding{ID: "b" + itoa(s.u.bindings), Via: via, SentTo: "*******678", ValidFor: 5 * time.Minute}, nil
	}
	return Binding{ID: "b" + itoa(s.u.bindings), Code: "12345678", Via: via, ValidFor: 5 * time.Minute}, nil
}

func (s *fakeSession) BindingStatus(_ context.Context, id string, wait time.Duration) (BindingStatus, error) {
	if err := s.u.call("BindingStatus"); err != nil {
		return BindingStatus{}, err
	}
	if wait != bindWait {
		return BindingStatus{}, &UpstreamError{Kind: KindRejected}
	}
	s.u.mu.Lock()
	defer s.u.mu.Unlock()
	if s.u.bindStatus == "" {
		return BindingStatus{Status: BindingWaiting}, nil
	}
	return BindingStatus{Status: s.u.bindStatus, Device: Device{ID: "dev-9", Name: "TEST PHONE"}}, nil
}

func TestBindingLinked(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.tap(IDBind)
	d.wantScreen(ScreenBind)
	if d.count("BindingStatus") != 0 {
		t.Fatalf("polled before the first tick")
	}
	d.advance(time.Second)
	d.advance(time.Second)
	if n := d.count("BindingStatus"); n != 2 {
		t.Fatalf("%d status requests after 2 ticks, want 2 (one at a time, again while waiting)", n)
	}
	d.up.bindStatus = BindingLinked
	d.advance(time.Second)
	d.wantScreen(ScreenLinked)
	if linked := flowOf[*binding](t, d.m).linked; linked != "TEST PHONE" {
		t.Errorf("linked = %q", linked)
	}
	d.advance(time.Second)
	if n := d.count("BindingStatus"); n != 3 {
		t.Errorf("still polling after linked: %d requests", n)
	}
	d.tap(IDBack)
	d.wantScreen(ScreenAccount)
}

func TestBindingBySMS(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.tap(IDBindSMS)
	d.wantScreen(ScreenBind)
	if b := flowOf[*binding](t, d.m).code.b; b.Via != ViaSMS || b.Code != "" || b.SentTo != "*******678" {
		t.Fatalf("binding = %+v", b)
	}
	d.up.bindStatus = BindingExpired
	d.advance(time.Second)
	d.wantScreen(ScreenBindExpired)
	d.up.bindStatus = BindingLinked
	d.tap(IDNewCode)
	if flowOf[*binding](t, d.m).code.b.Via != ViaSMS {
		t.Errorf("the new code is not by SMS")
	}
	d.advance(time.Second)
	d.wantScreen(ScreenLinked)
}

func TestBindingExpiredNewCode(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.tap(IDBind)
	d.up.bindStatus = BindingExpired
	d.advance(time.Second)
	d.wantScreen(ScreenBindExpired)
	d.up.bindStatus = ""
	d.tap(IDNewCode)
	d.wantScreen(ScreenBind)
	if id := flowOf[*binding](t, d.m).code.b.ID; id != "b2" {
		t.Errorf("binding = %q, want a new one", id)
	}
}

func TestBindingStatusFailureRetriesLater(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.tap(IDBind)
	d.up.errs["BindingStatus"] = ErrUnavailable
	d.advance(250 * time.Millisecond)
	d.advance(250 * time.Millisecond)
	if n := d.count("BindingStatus"); n != 1 {
		t.Fatalf("%d requests within the retry pause, want 1", n)
	}
	delete(d.up.errs, "BindingStatus")
	d.advance(2 * time.Second)
	d.wantScreen(ScreenBind)
	if n := d.count("BindingStatus"); n != 2 {
		t.Errorf("%d requests after the pause, want 2", n)
	}
	d.up.errs["BindingStatus"] = &UpstreamError{Kind: KindUnauthorized}
	d.advance(time.Second)
	d.wantScreen(ScreenError)
}

func TestBindingEndsWithCard(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.tap(IDBind)
	d.do(CardRemoved{})
	d.wantScreen(ScreenRemoved)
	d.advance(time.Second)
	if d.count("BindingStatus") != 0 || d.count("Logout") != 1 {
		t.Errorf("after the card left: calls %v", d.up.calls)
	}
}

func TestBindingExpiresWithoutAnswer(t *testing.T) {
	d := newDriver(t)
	d.login(testPassword)
	d.tap(IDBind)
	d.up.errs["BindingStatus"] = ErrUnavailable
	d.advance(4 * time.Minute)
	d.wantScreen(ScreenBind) // no idle warning while the code is up
	if on, _ := d.m.Warning(); on {
		t.Fatalf("idle warning while the code is up")
	}
	d.advance(time.Minute + 31*time.Second)
	d.wantScreen(ScreenBindExpired)
	d.advance(61 * time.Second)
	if on, _ := d.m.Warning(); !on {
		t.Errorf("no idle warning on the expired screen")
	}
}
