package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// bindCmd runs "nhisim bind" (the phone) and returns its output.
func bindCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(nhisimBinary(t), append([]string{"bind"}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// TestAccountEndToEnd drives the account services against the nhisim
// binary over mutual TLS: log in, the e-mail change confirmed with the
// code read back from Mailpit, a phone (nhisim bind, with its own
// certificate) linking while the kiosk long-polls, device removal, the
// password change, and nothing personal in nhisim's log.
func TestAccountEndToEnd(t *testing.T) {
	e := newE2E(t)
	ctx := context.Background()
	p := e.person(20)
	if _, err := e.c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, e.code(t, p, 1)); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.Login(ctx, p.CardNumber, p.IDNumber, "Wrong1!pw")
	wantErr(t, "wrong password", err, 403, upstream.ErrCodeWrongPassword)
	s, err := e.c.Login(ctx, p.CardNumber, p.IDNumber, p.Password)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}

	newMail := fmt.Sprintf("e2e-%s-20-new@example.com", e.run)
	c := p.Contact
	c.Email, c.Mobile = newMail, "0987654321"
	if st, err := s.ChangeContact(ctx, c); err != nil || st != upstream.StatusEmailPending {
		t.Fatalf("ChangeContact = %q, %v", st, err)
	}
	m := e.mp.Wait(t, newMail, 1)
	if !strings.Contains(m.Subject, "new e-mail") {
		t.Errorf("subject %q", m.Subject)
	}
	code := upstreamCode(t, m.Text)
	wantErr(t, "wrong e-mail code", s.ConfirmEmail(ctx, otherCode(code)), 422, upstream.ErrCodeWrongCode)
	if err := s.ConfirmEmail(ctx, code); err != nil {
		t.Fatalf("ConfirmEmail: %v", err)
	}
	if a, err := s.Account(ctx); err != nil || a.Contact.Email != newMail || a.Contact.Mobile != "0987654321" {
		t.Fatalf("Account = %+v, %v", a, err)
	}

	b, err := s.StartBinding(ctx, upstream.ViaScreen)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan upstream.BindingStatus, 1)
	go func() {
		st, err := s.BindingStatus(ctx, b.BindingID, 5*time.Second)
		if err != nil {
			t.Errorf("BindingStatus: %v", err)
		}
		got <- st
	}()
	phone := e.ca.Phone(t, "phone-e2e")
	tls := []string{"--url", e.nhisim.url, "--cert", phone.CertFile, "--key", phone.KeyFile, "--ca", e.ca.PEMFile}
	out, err := bindCmd(t, append([]string{b.Code, "--device", "E2E 測試手機"}, tls...)...)
	if err != nil || !strings.Contains(out, "linked: E2E 測試手機") {
		t.Fatalf("nhisim bind: %v\n%s", err, out)
	}
	if st := <-got; st.Status != upstream.StatusLinked || st.Device == nil || st.Device.Name != "E2E 測試手機" {
		t.Fatalf("kiosk saw %+v, want linked", st)
	}
	out, err = bindCmd(t, append([]string{b.Code, "--device", "Again"}, tls...)...)
	if err == nil || !strings.Contains(out, upstream.ErrCodeCodeUsed) {
		t.Errorf("second bind: %v\n%s", err, out)
	}
	devs, err := s.Devices(ctx)
	if err != nil || len(devs) != 1 {
		t.Fatalf("Devices = %+v, %v", devs, err)
	}
	if err := s.RemoveDevice(ctx, devs[0].DeviceID); err != nil {
		t.Fatalf("RemoveDevice: %v", err)
	}
	if err := s.ChangePassword(ctx, p.Password, "New2!pass"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.Login(ctx, p.CardNumber, p.IDNumber, "New2!pass"); err != nil {
		t.Fatalf("Login with the new password: %v", err)
	}
	log := e.nhisim.log()
	for _, v := range []string{p.CardNumber, p.IDNumber, p.Contact.Email, newMail, p.Contact.Mobile, "0987654321", code, b.Code, "New2!pass"} {
		if strings.Contains(log, v) {
			t.Errorf("nhisim log contains a personal value or secret")
		}
	}
}

// TestDevBindBySMS: in -dev, the binding SMS is printed (masked number
// and code) and logged without the number; nhisim bind links with it.
func TestDevBindBySMS(t *testing.T) {
	dir := t.TempDir()
	p := start(t, "-dev", "-listen", "127.0.0.1:0", "-db", dir+"/dev.db")
	c := upstream.New(upstream.Options{BaseURL: p.url, CardProver: upstreamtest.Genuine})
	ctx := context.Background()
	person := upstreamPerson(21)
	if _, err := c.Register(ctx, person); err != nil {
		t.Fatal(err)
	}
	code := devLine(t, p, "confirm e-mail", "code=", 6)
	if err := c.Verify(ctx, person.CardNumber, person.IDNumber, code); err != nil {
		t.Fatal(err)
	}
	s, err := c.Login(ctx, person.CardNumber, person.IDNumber, person.Password)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.StartBinding(ctx, upstream.ViaSMS)
	if err != nil || b.Code != "" || b.SentTo != "*******678" {
		t.Fatalf("StartBinding = %+v, %v", b, err)
	}
	sms := devLine(t, p, "sms to *******678", "code=", 8)
	if out, err := bindCmd(t, sms, "--device", "SMS phone", "--url", p.url); err != nil || !strings.Contains(out, "linked: SMS phone") {
		t.Fatalf("nhisim bind: %v\n%s", err, out)
	}
	if st, err := s.BindingStatus(ctx, b.BindingID, 0); err != nil || st.Status != upstream.StatusLinked {
		t.Fatalf("BindingStatus = %+v, %v", st, err)
	}
	if l := p.log(); !strings.Contains(l, "sms recorded") || strings.Contains(l, person.Contact.Mobile) {
		t.Errorf("log must record the SMS without the number:\n%s", l)
	}
}

// devLine waits for a -dev stdout line containing what and returns the
// n digits after key on it.
func devLine(t *testing.T, p *proc, what, key string, n int) string {
	t.Helper()
	for range 300 {
		for _, l := range strings.Split(p.out(), "\n") {
			if _, after, ok := strings.Cut(l, what); ok {
				if _, v, ok := strings.Cut(after, key); ok && len(v) >= n {
					return v[:n]
				}
			}
		}
		sleepTick()
	}
	t.Fatalf("no %q line in stdout: %q", what, p.out())
	return ""
}

func TestBindFlags(t *testing.T) {
	for _, tt := range []struct {
		args       []string
		code, name string
	}{
		{[]string{"12345678", "--device", "P"}, "12345678", "P"},
		{[]string{"--device", "P", "12345678"}, "12345678", "P"},
		{[]string{"-device=P", "-url", "http://x", "12345678"}, "12345678", "P"},
		{[]string{"12345678"}, "", ""},
		{[]string{"--device", "P"}, "", ""},
		{[]string{"1", "2", "--device", "P"}, "", ""},
		{[]string{"12345678", "--device", "P", "--cert", "c"}, "", ""},
	} {
		var stderr bytes.Buffer
		o, err := parseBind(tt.args, &stderr)
		if ok := tt.code != ""; (err == nil) != ok || (ok && (o.code != tt.code || o.device != tt.name)) {
			t.Errorf("parseBind(%q) = %+v, %v", tt.args, o, err)
		}
	}
}
