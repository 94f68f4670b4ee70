package server_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/textproto"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// clock is a settable time source for code expiry and locks.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	sim *upstreamtest.Sim
	box *upstreamtest.Mailbox
	clk *clock
	c   *upstream.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{box: upstreamtest.NewMailbox(), clk: &clock{t: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}}
	e.sim = upstreamtest.Start(t, server.Options{Mailer: e.box, Now: e.clk.now}, nil)
	e.c = upstream.New(upstream.Options{BaseURL: e.sim.URL, Attempts: 1, CardProver: upstreamtest.Genuine})
	return e
}

func wantCode(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var e *upstream.Error
	if !errors.As(err, &e) || e.Status != status || e.Code != code {
		t.Fatalf("%s: err = %v, want %d %s", what, err, status, code)
	}
}

func TestRegisterVerify(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := upstreamtest.Person(1)
	res, err := e.c.Register(ctx, p)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	if res.Queued || res.Status != upstream.StatusPendingEmail || res.Reference == "" || res.RegistrationID == "" {
		t.Fatalf("Register = %+v, want pending_email with id and reference", res)
	}
	code := e.box.WaitCode(t, p.Contact.Email, 1)
	if m := e.box.To(p.Contact.Email)[0]; !bytes.Contains([]byte(m.Body), []byte(res.Reference)) || !bytes.Contains([]byte(m.Body), []byte("/confirm?reference=")) {
		t.Errorf("confirmation e-mail lacks the reference or link:\n%s", m.Body)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	wantCode(t, "wrong code", e.c.Verify(ctx, p.CardNumber, p.IDNumber, wrong), 422, upstream.ErrCodeWrongCode)
	if err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, code); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	wantCode(t, "verify again", e.c.Verify(ctx, p.CardNumber, p.IDNumber, code), 409, upstream.ErrCodeNotPending)
	_, err = e.c.Register(ctx, p)
	wantCode(t, "register active", err, 409, upstream.ErrCodeAlreadyRegistered)
	wantCode(t, "resend active", e.c.Resend(ctx, p.CardNumber, p.IDNumber), 409, upstream.ErrCodeNotPending)
	wantCode(t, "cancel active", e.c.Cancel(ctx, p.CardNumber, p.IDNumber, p.Password), 409, upstream.ErrCodeNotPending)
}

func TestPendingExistsAndNotFound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := upstreamtest.Person(2)
	if _, err := e.c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err := e.c.Register(ctx, p)
	wantCode(t, "second registration", err, 409, upstream.ErrCodePendingExists)
	q := upstreamtest.Person(3)
	wantCode(t, "verify unknown", e.c.Verify(ctx, q.CardNumber, q.IDNumber, "123456"), 404, upstream.ErrCodeNotFound)
	wantCode(t, "resend unknown", e.c.Resend(ctx, q.CardNumber, q.IDNumber), 404, upstream.ErrCodeNotFound)
	wantCode(t, "reset unknown", e.c.PasswordReset(ctx, q.CardNumber, q.IDNumber), 404, upstream.ErrCodeNotFound)
	wantCode(t, "reset pending", e.c.PasswordReset(ctx, p.CardNumber, p.IDNumber), 409, upstream.ErrCodeNotActive)
	if s := e.sim.Server.Stats(); s.Created != 1 || s.Conflicts != 1 {
		t.Errorf("Stats = %+v, want 1 created, 1 conflict", s)
	}
}

func TestResendKillsOldCode(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := upstreamtest.Person(4)
	if _, err := e.c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	old := e.box.WaitCode(t, p.Contact.Email, 1)
	if err := e.c.Resend(ctx, p.CardNumber, p.IDNumber); err != nil {
		t.Fatalf("Resend: %v", err)
	}
	fresh := e.box.WaitCode(t, p.Contact.Email, 2)
	if old != fresh {
		wantCode(t, "old code", e.c.Verify(ctx, p.CardNumber, p.IDNumber, old), 422, upstream.ErrCodeWrongCode)
	}
	if err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, fresh); err != nil {
		t.Fatalf("Verify with the new code: %v", err)
	}
}

func TestCodeExpiresAndLocks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := upstreamtest.Person(5)
	if _, err := e.c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	code := e.box.WaitCode(t, p.Contact.Email, 1)
	wrong := "999999"
	if code == wrong {
		wrong = "888888"
	}
	for i := 1; i < upstream.MaxTries; i++ {
		wantCode(t, "wrong code", e.c.Verify(ctx, p.CardNumber, p.IDNumber, wrong), 422, upstream.ErrCodeWrongCode)
	}
	wantCode(t, "fifth wrong code", e.c.Verify(ctx, p.CardNumber, p.IDNumber, wrong), 429, upstream.ErrCodeTooManyTries)
	wantCode(t, "right code while locked", e.c.Verify(ctx, p.CardNumber, p.IDNumber, code), 429, upstream.ErrCodeTooManyTries)
	e.clk.add(upstream.LockDuration + time.Second)
	if err := e.c.Resend(ctx, p.CardNumber, p.IDNumber); err != nil {
		t.Fatal(err)
	}
	e.box.WaitCode(t, p.Contact.Email, 2)
	e.clk.add(upstream.CodeLifetime + time.Second)
	wantCode(t, "expired code", e.c.Verify(ctx, p.CardNumber, p.IDNumber, e.box.WaitCode(t, p.Contact.Email, 2)), 410, upstream.ErrCodeExpired)
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := upstreamtest.Person(6)
	if _, err := e.c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "wrong password", e.c.Cancel(ctx, p.CardNumber, p.IDNumber, "Wrong1!x"), 403, upstream.ErrCodeWrongPassword)
	if err := e.c.Cancel(ctx, p.CardNumber, p.IDNumber, p.Password); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	wantCode(t, "verify cancelled", e.c.Verify(ctx, p.CardNumber, p.IDNumber, "123456"), 404, upstream.ErrCodeNotFound)
	if _, err := e.c.Register(ctx, p); err != nil {
		t.Fatalf("register again after cancel: %v", err)
	}
}

func TestPasswordReset(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := upstreamtest.Person(7)
	if _, err := e.c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, e.box.WaitCode(t, p.Contact.Email, 1)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "confirm before asking", e.c.PasswordResetConfirm(ctx, p.CardNumber, p.IDNumber, "123456", "New1!pass"), 404, upstream.ErrCodeNotFound)
	if err := e.c.PasswordReset(ctx, p.CardNumber, p.IDNumber); err != nil {
		t.Fatalf("PasswordReset: %v", err)
	}
	code := e.box.WaitCode(t, p.Contact.Email, 2)
	err := e.c.PasswordResetConfirm(ctx, p.CardNumber, p.IDNumber, code, "short")
	wantCode(t, "weak new password", err, 422, upstream.ErrCodeInvalid)
	if f := upstream.Fields(err); len(f) != 1 || f[0].Field != "new_password" {
		t.Errorf("fields = %+v, want new_password", f)
	}
	if err := e.c.PasswordResetConfirm(ctx, p.CardNumber, p.IDNumber, code, "New1!pass"); err != nil {
		t.Fatalf("PasswordResetConfirm: %v", err)
	}
	wantCode(t, "code used up", e.c.PasswordResetConfirm(ctx, p.CardNumber, p.IDNumber, code, "New2!pass"), 404, upstream.ErrCodeNotFound)
}

func TestInvalidFields(t *testing.T) {
	e := newEnv(t)
	p := upstreamtest.Person(8)
	p.Contact.Email = "not-an-address"
	p.Contact.BackupEmail = "not-an-address"
	p.Contact.Phone.Number = "123"
	p.IDNumber = "A123456788"
	p.Household.VillageCode = "09007010099"
	body := mustJSON(t, p)
	status, eb := post(t, e.sim.URL+upstream.PathRegistrations, "k-invalid", body)
	if status != 422 || eb.Error == nil || eb.Error.Code != upstream.ErrCodeInvalid {
		t.Fatalf("status %d %+v, want 422 invalid", status, eb.Error)
	}
	var got []string
	for _, f := range eb.Error.Fields {
		got = append(got, f.Field+":"+f.Code)
	}
	for _, want := range []string{"id_number:check_digit", "contact.email:format", "contact.backup_email:format", "contact.phone:invalid_number", "household.village_code:unknown"} {
		if !slices.Contains(got, want) {
			t.Errorf("fields %v lack %s", got, want)
		}
	}
	if e.box.Len() != 0 {
		t.Errorf("an invalid registration sent %d e-mails", e.box.Len())
	}
}

func TestTermsChanged(t *testing.T) {
	e := newEnv(t)
	p := upstreamtest.Person(9)
	p.TermsVersion = "2020-01"
	_, err := e.c.Register(context.Background(), p)
	wantCode(t, "old terms", err, 409, upstream.ErrCodeTermsChanged)
}

func TestFailInjection(t *testing.T) {
	sim := upstreamtest.Start(t, server.Options{FailRate: 1}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 2, Backoff: time.Millisecond, CardProver: upstreamtest.Genuine})
	_, err := c.Register(context.Background(), upstreamtest.Person(10))
	if !errors.Is(err, upstream.ErrUnavailable) {
		t.Fatalf("Register against -fail 1 = %v, want ErrUnavailable", err)
	}
	if s := sim.Server.Stats(); s.Created != 0 {
		t.Errorf("created %d under -fail 1", s.Created)
	}
}

func TestSurvivesRestart(t *testing.T) {
	box := upstreamtest.NewMailbox()
	first := upstreamtest.Start(t, server.Options{Mailer: box}, nil)
	p := upstreamtest.Person(11)
	c := upstream.New(upstream.Options{BaseURL: first.URL, Attempts: 1, CardProver: upstreamtest.Genuine})
	if _, err := c.Register(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	code := box.WaitCode(t, p.Contact.Email, 1)
	// A second server on the same database and identity (the first one's
	// handle must be closed first: bbolt locks the file).
	if err := first.Server.Close(); err != nil {
		t.Fatal(err)
	}
	second := upstreamtest.Start(t, server.Options{DBPath: first.DBPath, Identity: first.Identity}, nil)
	c2 := upstream.New(upstream.Options{BaseURL: second.URL, Attempts: 1, CardProver: upstreamtest.Genuine})
	if err := c2.Verify(context.Background(), p.CardNumber, p.IDNumber, code); err != nil {
		t.Fatalf("Verify after restart: %v", err)
	}
	if n, err := second.Server.Counts(); err != nil || n.Active != 1 {
		t.Errorf("Counts after restart = %+v, %v; want 1 active", n, err)
	}
}

var _ = http.StatusOK

// refusing is a Mailer whose relay refuses one address for good.
type refusing struct {
	*upstreamtest.Mailbox
	bad string
}

func (r refusing) Send(ctx context.Context, m server.Mail) error {
	if m.To == r.bad {
		return &textproto.Error{Code: 550, Msg: "no such mailbox"}
	}
	return r.Mailbox.Send(ctx, m)
}

// TestMailRefusedDoesNotBlock: a permanently refused e-mail is dropped,
// and the e-mails queued behind it are still delivered.
func TestMailRefusedDoesNotBlock(t *testing.T) {
	box := upstreamtest.NewMailbox()
	bad, good := upstreamtest.Person(80), upstreamtest.Person(81)
	sim := upstreamtest.Start(t, server.Options{Mailer: refusing{box, bad.Contact.Email}}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL, CardProver: upstreamtest.Genuine})
	for _, p := range []upstream.Registration{bad, good} {
		if _, err := c.Register(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	box.WaitCode(t, good.Contact.Email, 1)
	for range 100 {
		if n, _ := sim.Server.Counts(); n.QueuedMail == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("the refused e-mail is still queued")
}
