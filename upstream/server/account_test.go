package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// active registers and confirms fake person n and returns it.
func (e *env) active(t *testing.T, n int) upstream.Registration {
	t.Helper()
	ctx := context.Background()
	p := upstreamtest.Person(n)
	if _, err := e.c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, e.box.WaitCode(t, p.Contact.Email, 1)); err != nil {
		t.Fatal(err)
	}
	return p
}

// newEnvWith is newEnv with nhisim's -dev printout and log captured.
func newEnvWith(t *testing.T, dev, logs *syncBuf) *env {
	t.Helper()
	e := &env{box: upstreamtest.NewMailbox(), clk: &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}}
	e.sim = upstreamtest.Start(t, server.Options{Mailer: e.box, Now: e.clk.now, DevOut: dev,
		Logger: slog.New(slog.NewTextHandler(logs, nil))}, nil)
	e.c = upstream.New(upstream.Options{BaseURL: e.sim.URL, Attempts: 1, CardProver: upstreamtest.Genuine})
	return e
}

func (e *env) login(t *testing.T, p upstream.Registration) *upstream.AccountSession {
	t.Helper()
	s, err := e.c.Login(context.Background(), p.CardNumber, p.IDNumber, p.Password)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	return s
}

func TestLoginLockAndReset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pending := upstreamtest.Person(41)
	if _, err := e.c.Register(ctx, pending); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.Login(ctx, pending.CardNumber, pending.IDNumber, pending.Password)
	wantCode(t, "pending account", err, 409, upstream.ErrCodeNotActive)
	nobody := upstreamtest.Person(49)
	_, err = e.c.Login(ctx, nobody.CardNumber, nobody.IDNumber, nobody.Password)
	// An unknown ID is refused like a wrong password (issue 13).
	wantCode(t, "no account", err, 403, upstream.ErrCodeWrongPassword)

	p := e.active(t, 40)
	s := e.login(t, p)
	if !s.ExpiresAt.Equal(e.clk.now().Add(upstream.SessionLifetime)) {
		t.Errorf("session expires %v", s.ExpiresAt)
	}
	// A right password resets the count: 4 wrong, 1 right, 4 wrong is no lock.
	for round := range 2 {
		for i := range upstream.MaxPasswordFails - 1 {
			_, err := e.c.Login(ctx, p.CardNumber, p.IDNumber, "Wrong1!pw")
			wantCode(t, "wrong password", err, 403, upstream.ErrCodeWrongPassword)
			_ = i
		}
		if round == 0 {
			e.login(t, p)
		}
	}
	_, err = e.c.Login(ctx, p.CardNumber, p.IDNumber, "Wrong1!pw")
	wantCode(t, "fifth wrong password in a row", err, 423, upstream.ErrCodeAccountLocked)
	_, err = e.c.Login(ctx, p.CardNumber, p.IDNumber, p.Password)
	wantCode(t, "right password on a locked account", err, 423, upstream.ErrCodeAccountLocked)
	_, err = s.Account(ctx)
	wantCode(t, "earlier session of a locked account", err, 423, upstream.ErrCodeAccountLocked)

	// Forgot password unlocks.
	if err := e.c.PasswordReset(ctx, p.CardNumber, p.IDNumber); err != nil {
		t.Fatal(err)
	}
	code := e.box.WaitCode(t, p.Contact.Email, 2)
	if err := e.c.PasswordResetConfirm(ctx, p.CardNumber, p.IDNumber, code, "New1!pass"); err != nil {
		t.Fatal(err)
	}
	p.Password = "New1!pass"
	e.login(t, p)
}

func TestSessionEnds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.active(t, 42)
	s := e.login(t, p)
	a, err := s.Account(ctx)
	if err != nil || a.Contact.Email != p.Contact.Email || a.Reference == "" {
		t.Fatalf("Account = %+v, %v", a, err)
	}
	if err := s.Logout(ctx); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	_, err = s.Account(ctx)
	wantCode(t, "after logout", err, 401, upstream.ErrCodeUnauthorized)
	s = e.login(t, p)
	e.clk.add(upstream.SessionLifetime)
	_, err = s.Devices(ctx)
	wantCode(t, "after the lifetime", err, 401, upstream.ErrCodeUnauthorized)
	resp, _ := do(t, "GET", e.sim.URL+upstream.PathAccount, "", "", nil, "Authorization", "Bearer made-up")
	if resp.StatusCode != 401 {
		t.Errorf("made-up token = %d, want 401", resp.StatusCode)
	}
}

func TestBindingOnScreen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.login(t, e.active(t, 43))
	b, err := s.StartBinding(ctx, upstream.ViaScreen)
	if err != nil {
		t.Fatalf("StartBinding: %v", err)
	}
	if len(b.Code) != 8 || strings.Trim(b.Code, "0123456789") != "" || !b.ExpiresAt.Equal(e.clk.now().Add(5*time.Minute)) || b.SentTo != "" {
		t.Fatalf("binding %+v: want an 8-digit code valid 5 minutes", b)
	}
	st, err := s.BindingStatus(ctx, b.BindingID, 50*time.Millisecond)
	if err != nil || st.Status != upstream.StatusWaiting {
		t.Fatalf("status before the phone = %+v, %v; want waiting", st, err)
	}
	got := make(chan upstream.BindingStatus, 1)
	go func() {
		st, err := s.BindingStatus(ctx, b.BindingID, 25*time.Second)
		if err != nil {
			t.Errorf("long-poll: %v", err)
		}
		got <- st
	}()
	time.Sleep(50 * time.Millisecond) // let the long-poll wait (the test passes either way)
	d, err := e.c.Bind(ctx, b.Code, "測試手機 Pixel")
	if err != nil {
		t.Fatalf("Bind: %v", err)
	}
	st = <-got
	if st.Status != upstream.StatusLinked || st.Device == nil || st.Device.Name != "測試手機 Pixel" || st.Device.DeviceID != d.DeviceID {
		t.Fatalf("long-poll = %+v, want linked with the device", st)
	}
	_, err = e.c.Bind(ctx, b.Code, "Other phone")
	wantCode(t, "code used twice", err, 409, upstream.ErrCodeCodeUsed)
	devs, err := s.Devices(ctx)
	if err != nil || len(devs) != 1 || devs[0].Name != "測試手機 Pixel" || !devs[0].LinkedAt.Equal(e.clk.now()) || devs[0].LastUsed.IsZero() {
		t.Fatalf("Devices = %+v, %v", devs, err)
	}
}

func TestBindingRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.active(t, 44)
	s := e.login(t, p)
	b, err := s.StartBinding(ctx, upstream.ViaScreen)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "00000000"
	if b.Code == wrong {
		wrong = "11111111"
	}
	_, err = e.c.Bind(ctx, wrong, "Phone")
	wantCode(t, "unknown code", err, 422, upstream.ErrCodeWrongCode)
	_, err = e.c.Bind(ctx, "1234", "Phone")
	wantCode(t, "short code", err, 422, upstream.ErrCodeInvalid)
	_, err = s.StartBinding(ctx, "carrier-pigeon")
	wantCode(t, "bad via", err, 422, upstream.ErrCodeInvalid)
	e.clk.add(upstream.BindCodeLifetime)
	_, err = e.c.Bind(ctx, b.Code, "Phone")
	wantCode(t, "expired code", err, 410, upstream.ErrCodeExpired)
	if st, err := s.BindingStatus(ctx, b.BindingID, 0); err != nil || st.Status != upstream.StatusExpired {
		t.Errorf("status = %+v, %v; want expired", st, err)
	}
	_, err = s.BindingStatus(ctx, "no-such-binding", 0)
	wantCode(t, "unknown binding", err, 404, upstream.ErrCodeNotFound)
	// Another account cannot watch this binding.
	other := e.login(t, e.active(t, 45))
	_, err = other.BindingStatus(ctx, b.BindingID, 0)
	wantCode(t, "another account's binding", err, 404, upstream.ErrCodeNotFound)
	tok := rawLogin(t, e, p)
	for w, want := range map[string]int{"31s": 400, "-1s": 400, "soon": 400, "99999999999999999999": 400, "1": 200, "10ms": 200, "": 200} {
		resp, body := do(t, "GET", e.sim.URL+upstream.PathBindingStatus+"?binding_id="+b.BindingID+"&wait="+w, "", "", nil, "Authorization", "Bearer "+tok)
		if resp.StatusCode != want {
			t.Errorf("wait=%q = %d %s, want %d", w, resp.StatusCode, body, want)
		}
	}
	resp, _ := do(t, "GET", e.sim.URL+upstream.PathBindingStatus+"?binding_id="+b.BindingID, "", "", nil)
	if resp.StatusCode != 401 {
		t.Errorf("status without a session = %d, want 401", resp.StatusCode)
	}
}

func TestBindingBySMS(t *testing.T) {
	var dev, logs syncBuf
	e := newEnvWith(t, &dev, &logs)
	ctx := context.Background()
	p := e.active(t, 46)
	s := e.login(t, p)
	b, err := s.StartBinding(ctx, upstream.ViaSMS)
	if err != nil {
		t.Fatal(err)
	}
	if b.Code != "" || b.SentTo != "*******678" || b.Via != upstream.ViaSMS {
		t.Fatalf("binding %+v: want no code and the masked mobile", b)
	}
	var code string
	for i := 0; code == "" && i < 500; i++ {
		if _, after, ok := strings.Cut(dev.String(), "sms to *******678 binding code="); ok {
			code = strings.TrimSpace(after)
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if len(code) != 8 {
		t.Fatalf("dev output has no SMS code: %q", dev.String())
	}
	if _, err := e.c.Bind(ctx, code, "SMS phone"); err != nil {
		t.Fatalf("Bind with the SMS code: %v", err)
	}
	l := logs.String()
	if !strings.Contains(l, "sms recorded") || !strings.Contains(l, "*******678") || strings.Contains(l, p.Contact.Mobile) || strings.Contains(l, code) {
		t.Errorf("log must record the SMS with the masked number only:\n%s", l)
	}
}

func TestRemoveDevice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	link := func(s *upstream.AccountSession, name string) upstream.Device {
		b, err := s.StartBinding(ctx, upstream.ViaScreen)
		if err != nil {
			t.Fatal(err)
		}
		d, err := e.c.Bind(ctx, b.Code, name)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b := e.login(t, e.active(t, 47)), e.login(t, e.active(t, 48))
	da1, da2, db := link(a, "A one"), link(a, "A two"), link(b, "B one")
	wantCode(t, "remove another account's device", a.RemoveDevice(ctx, db.DeviceID), 404, upstream.ErrCodeNotFound)
	if devs, _ := b.Devices(ctx); len(devs) != 1 || devs[0].DeviceID != db.DeviceID {
		t.Fatalf("B's devices after A's attempt = %+v", devs)
	}
	if err := a.RemoveDevice(ctx, da1.DeviceID); err != nil {
		t.Fatalf("RemoveDevice: %v", err)
	}
	if devs, _ := a.Devices(ctx); len(devs) != 1 || devs[0].DeviceID != da2.DeviceID {
		t.Fatalf("A's devices = %+v, want only A two", devs)
	}
	wantCode(t, "remove twice", a.RemoveDevice(ctx, da1.DeviceID), 404, upstream.ErrCodeNotFound)
}

func TestChangeContact(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.active(t, 50)
	s := e.login(t, p)
	bad := p.Contact
	bad.Mobile, bad.BackupEmail = "12345", bad.Email
	_, err := s.ChangeContact(ctx, bad)
	wantCode(t, "invalid contact", err, 422, upstream.ErrCodeInvalid)
	if got := fieldNames(upstream.Fields(err)); got != "mobile backup_email" {
		t.Errorf("fields %q", got)
	}
	// The server checks too (raw request past the client's check).
	tok := rawLogin(t, e, p)
	resp, body := do(t, "POST", e.sim.URL+upstream.PathContact, "k1", upstream.ContentJSON, mustJSON(t, bad), "Authorization", "Bearer "+tok)
	if resp.StatusCode != 422 || !strings.Contains(string(body), `"backup_email"`) {
		t.Errorf("server check = %d %s", resp.StatusCode, body)
	}

	next := upstream.Contact{Phone: upstream.Phone{AreaCode: "02", Number: "87654321", Extension: "12"},
		Mobile: "0987654321", Email: "test50-new@example.com", BackupEmail: "test50-backup@example.com"}
	st, err := s.ChangeContact(ctx, next)
	if err != nil || st != upstream.StatusEmailPending {
		t.Fatalf("ChangeContact = %q, %v; want email_pending", st, err)
	}
	a, _ := s.Account(ctx)
	if a.Contact.Email != p.Contact.Email || a.PendingEmail != next.Email || a.Contact.Mobile != next.Mobile || a.Contact.Phone != next.Phone {
		t.Fatalf("Account = %+v: want the old primary e-mail, the rest changed", a)
	}
	code := e.box.WaitCode(t, next.Email, 1)
	wantCode(t, "wrong code", s.ConfirmEmail(ctx, otherCode6(code)), 422, upstream.ErrCodeWrongCode)
	if err := s.ConfirmEmail(ctx, code); err != nil {
		t.Fatalf("ConfirmEmail: %v", err)
	}
	if a, _ := s.Account(ctx); a.Contact.Email != next.Email || a.PendingEmail != "" {
		t.Fatalf("Account after confirming = %+v", a)
	}
	wantCode(t, "confirm twice", s.ConfirmEmail(ctx, code), 409, upstream.ErrCodeNotPending)
	// Same primary: changed at once, no mail.
	next.Mobile = "0911222333"
	if st, err := s.ChangeContact(ctx, next); err != nil || st != upstream.StatusChanged {
		t.Fatalf("ChangeContact same e-mail = %q, %v", st, err)
	}
	if n := len(e.box.To(next.Email)); n != 1 {
		t.Errorf("%d mails to the new address, want 1", n)
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.active(t, 51)
	s := e.login(t, p)
	err := s.ChangePassword(ctx, p.Password, p.Password)
	wantCode(t, "same as old", err, 422, upstream.ErrCodeInvalid)
	if f := upstream.Fields(err); len(f) != 1 || f[0].Code != "same_as_old" {
		t.Errorf("fields %+v", f)
	}
	tok := rawLogin(t, e, p)
	resp, body := do(t, "POST", e.sim.URL+upstream.PathPassword, "k2", upstream.ContentJSON,
		mustJSON(t, upstream.PasswordChange{CurrentPassword: p.Password, NewPassword: p.Password}), "Authorization", "Bearer "+tok)
	if resp.StatusCode != 422 || !strings.Contains(string(body), "same_as_old") {
		t.Errorf("server same_as_old = %d %s", resp.StatusCode, body)
	}
	wantCode(t, "weak", s.ChangePassword(ctx, p.Password, "abc"), 422, upstream.ErrCodeInvalid)
	wantCode(t, "wrong current", s.ChangePassword(ctx, "Wrong1!pw", "New1!pass"), 403, upstream.ErrCodeWrongPassword)
	if err := s.ChangePassword(ctx, p.Password, "New1!pass"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	_, err = e.c.Login(ctx, p.CardNumber, p.IDNumber, p.Password)
	wantCode(t, "old password", err, 403, upstream.ErrCodeWrongPassword)
	p.Password = "New1!pass"
	e.login(t, p)
}

func rawLogin(t *testing.T, e *env, p upstream.Registration) string {
	t.Helper()
	resp, body := do(t, "POST", e.sim.URL+upstream.PathSessions, upstream.NewIdempotencyKey(), upstream.ContentJSON,
		mustJSON(t, upstream.Login{CardNumber: p.CardNumber, IDNumber: p.IDNumber, Password: p.Password,
			CardAuth: e.sim.Proof(t, upstream.PurposeLogin, p.CardNumber, p.IDNumber)}))
	var s upstream.Session
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(body, &s) != nil || s.Token == "" {
		t.Fatalf("login = %d %s", resp.StatusCode, body)
	}
	return s.Token
}

func fieldNames(f []upstream.FieldError) string {
	var n []string
	for _, x := range f {
		n = append(n, x.Field)
	}
	return strings.Join(n, " ")
}

func otherCode6(c string) string {
	if c == "000000" {
		return "111111"
	}
	return "000000"
}

// TestBindGuessing: after MaxBindGuesses unknown codes in a minute, a
// client is refused even with the right code, until the minute is over.
func TestBindGuessing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	s := e.login(t, e.active(t, 52))
	b, err := s.StartBinding(ctx, upstream.ViaScreen)
	if err != nil {
		t.Fatal(err)
	}
	wrong := 0
	for i := 0; wrong < server.MaxBindGuesses; i++ {
		c := fmt.Sprintf("%08d", i)
		if c == b.Code {
			continue
		}
		_, err := e.c.Bind(ctx, c, "Guesser")
		wantCode(t, "guess", err, 422, upstream.ErrCodeWrongCode)
		wrong++
	}
	_, err = e.c.Bind(ctx, b.Code, "Phone")
	wantCode(t, "right code after too many guesses", err, 429, upstream.ErrCodeTooManyTries)
	e.clk.add(time.Minute)
	if _, err := e.c.Bind(ctx, b.Code, "Phone"); err != nil {
		t.Fatalf("Bind a minute later: %v", err)
	}
}

// TestPurge: sessions and bindings a day past their end are deleted; a
// live session survives.
func TestPurge(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := e.active(t, 53)
	old := e.login(t, p)
	if _, err := old.StartBinding(ctx, upstream.ViaScreen); err != nil {
		t.Fatal(err)
	}
	if n, err := e.sim.Server.Purge(); err != nil || n.Sessions+n.Bindings != 0 {
		t.Fatalf("Purge of live ones = %+v, %v", n, err)
	}
	e.clk.add(25 * time.Hour)
	live := e.login(t, p)
	// Server.Run may purge first (it does hourly when idle): count what is left.
	if _, err := e.sim.Server.Purge(); err != nil {
		t.Fatal(err)
	}
	if c, err := e.sim.Server.Counts(); err != nil || c.Sessions != 1 || c.Bindings != 0 {
		t.Fatalf("Counts after purge = %+v, %v; want 1 session, 0 bindings", c, err)
	}
	if _, err := live.Account(ctx); err != nil {
		t.Errorf("live session after purge: %v", err)
	}
}
