package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// TestEndToEnd drives every flow against the nhisim binary over mutual
// TLS, reading each e-mail back from Mailpit.
func TestEndToEnd(t *testing.T) {
	e := newE2E(t)
	ctx := context.Background()

	t.Run("register and verify", func(t *testing.T) {
		p := e.person(1)
		res, err := e.c.Register(ctx, p)
		if err != nil || res.Queued || res.Status != upstream.StatusPendingEmail {
			t.Fatalf("Register = %+v, %v", res, err)
		}
		m := e.mp.Wait(t, p.Contact.Email, 1)
		for _, want := range []string{"確認", "confirm", res.Reference, "/confirm?reference=" + res.Reference} {
			if !strings.Contains(m.Subject+m.Text, want) {
				t.Errorf("confirmation e-mail lacks %q", want)
			}
		}
		code := upstreamCode(t, m.Text)
		wantErr(t, "wrong code", e.c.Verify(ctx, p.CardNumber, p.IDNumber, otherCode(code)), 422, upstream.ErrCodeWrongCode)
		if err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, code); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		_, err = e.c.Register(ctx, p)
		wantErr(t, "register again", err, 409, upstream.ErrCodeAlreadyRegistered)

		// Forgot password on the now active account.
		if err := e.c.PasswordReset(ctx, p.CardNumber, p.IDNumber); err != nil {
			t.Fatalf("PasswordReset: %v", err)
		}
		reset := e.mp.Wait(t, p.Contact.Email, 2)
		if !strings.Contains(reset.Subject, "password reset") {
			t.Errorf("reset e-mail subject = %q", reset.Subject)
		}
		rc := upstreamCode(t, reset.Text)
		wantErr(t, "wrong reset code", e.c.PasswordResetConfirm(ctx, p.CardNumber, p.IDNumber, otherCode(rc), "New1!pass"), 422, upstream.ErrCodeWrongCode)
		if err := e.c.PasswordResetConfirm(ctx, p.CardNumber, p.IDNumber, rc, "New1!pass"); err != nil {
			t.Fatalf("PasswordResetConfirm: %v", err)
		}
	})

	t.Run("resend", func(t *testing.T) {
		p := e.person(2)
		if _, err := e.c.Register(ctx, p); err != nil {
			t.Fatal(err)
		}
		old := e.code(t, p, 1)
		if err := e.c.Resend(ctx, p.CardNumber, p.IDNumber); err != nil {
			t.Fatalf("Resend: %v", err)
		}
		fresh := e.code(t, p, 2)
		if old != fresh {
			wantErr(t, "old code after resend", e.c.Verify(ctx, p.CardNumber, p.IDNumber, old), 422, upstream.ErrCodeWrongCode)
		}
		if err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, fresh); err != nil {
			t.Fatalf("Verify with the resent code: %v", err)
		}
	})

	t.Run("cancel", func(t *testing.T) {
		p := e.person(3)
		if _, err := e.c.Register(ctx, p); err != nil {
			t.Fatal(err)
		}
		_, err := e.c.Register(ctx, p)
		wantErr(t, "register twice", err, 409, upstream.ErrCodePendingExists)
		wantErr(t, "cancel, wrong password", e.c.Cancel(ctx, p.CardNumber, p.IDNumber, "Wrong1!x"), 403, upstream.ErrCodeWrongPassword)
		if err := e.c.Cancel(ctx, p.CardNumber, p.IDNumber, p.Password); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		wantErr(t, "resend after cancel", e.c.Resend(ctx, p.CardNumber, p.IDNumber), 404, upstream.ErrCodeNotFound)
	})

	t.Run("too many tries", func(t *testing.T) {
		p := e.person(4)
		if _, err := e.c.Register(ctx, p); err != nil {
			t.Fatal(err)
		}
		code := e.code(t, p, 1)
		for i := 1; i < upstream.MaxTries; i++ {
			wantErr(t, "wrong code", e.c.Verify(ctx, p.CardNumber, p.IDNumber, otherCode(code)), 422, upstream.ErrCodeWrongCode)
		}
		wantErr(t, "fifth wrong code", e.c.Verify(ctx, p.CardNumber, p.IDNumber, otherCode(code)), 429, upstream.ErrCodeTooManyTries)
		wantErr(t, "right code while locked", e.c.Verify(ctx, p.CardNumber, p.IDNumber, code), 429, upstream.ErrCodeTooManyTries)
	})

	t.Run("refusals", func(t *testing.T) {
		p := e.person(5)
		p.TermsVersion = "1999-01"
		_, err := e.c.Register(ctx, p)
		wantErr(t, "old terms", err, 409, upstream.ErrCodeTermsChanged)
		q := e.person(6)
		wantErr(t, "verify unknown", e.c.Verify(ctx, q.CardNumber, q.IDNumber, "123456"), 404, upstream.ErrCodeNotFound)
		wantErr(t, "reset unknown", e.c.PasswordReset(ctx, q.CardNumber, q.IDNumber), 404, upstream.ErrCodeNotFound)
		// Bypass the kiosk's own checks: the server refuses the same
		// fields, with the same codes.
		q.Contact.Mobile = "12345"
		q.Household.Number = "12345678"
		err = e.c.SendQueued(ctx, upstream.NewIdempotencyKey(), encrypt(t, e.cfg.Upstream.AgeRecipient, q))
		wantErr(t, "invalid fields", err, 422, upstream.ErrCodeInvalid)
		if got := fieldList(upstream.Fields(err)); got != "household.number:format contact.mobile:length" {
			t.Errorf("fields = %q", got)
		}
	})

	t.Run("logs carry no personal data", func(t *testing.T) {
		log := e.nhisim.log()
		if !strings.Contains(log, "kiosk=kiosk-e2e method=POST path=/v1/registrations status=201") {
			t.Fatalf("nhisim's log lacks the request lines:\n%s", log)
		}
		for n := 1; n <= 6; n++ {
			p := e.person(n)
			for _, v := range []string{p.CardNumber, p.IDNumber, p.Contact.Email, p.Password, p.Name, p.Contact.Mobile} {
				if strings.Contains(log, v) {
					t.Errorf("nhisim's log contains a personal value of person %d", n)
				}
			}
		}
	})

	t.Run("survives restart", func(t *testing.T) {
		p := e.person(7)
		if _, err := e.c.Register(ctx, p); err != nil {
			t.Fatal(err)
		}
		code := e.code(t, p, 1)
		e.nhisim.stop()
		again := start(t, e.args...)
		cfg := e.cfg
		cfg.Upstream.URL = again.url
		c, err := upstream.FromConfig(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		c = c.WithCardProver(upstreamtest.Genuine)
		if err := c.Verify(ctx, p.CardNumber, p.IDNumber, code); err != nil {
			t.Fatalf("Verify after restart: %v", err)
		}
	})
}

// TestDevMode runs nhisim -dev: plain HTTP on loopback, the e-mail's code
// and reference printed to stdout but never the address.
func TestDevMode(t *testing.T) {
	dir := t.TempDir()
	p := start(t, "-dev", "-listen", "127.0.0.1:0", "-db", dir+"/dev.db")
	c := upstream.New(upstream.Options{BaseURL: p.url, CardProver: upstreamtest.Genuine})
	person := upstreamPerson(8)
	res, err := c.Register(context.Background(), person)
	if err != nil {
		t.Fatal(err)
	}
	var line string
	for range 300 {
		if line = p.out(); strings.Contains(line, res.Reference) {
			break
		}
		sleepTick()
	}
	if !strings.Contains(line, "confirm e-mail reference="+res.Reference+" code=") {
		t.Fatalf("stdout = %q, want the confirm line", line)
	}
	if strings.Contains(line, person.Contact.Email) || strings.Contains(line, person.IDNumber) {
		t.Errorf("dev output contains personal data: %q", line)
	}
	if err := c.Verify(context.Background(), person.CardNumber, person.IDNumber, upstreamCode(t, strings.Replace(line, "code=", "Code: ", 1))); err != nil {
		t.Errorf("Verify with the printed code: %v", err)
	}
}

func TestFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"-dev", "-listen", "127.0.0.1:8080"}, true},
		{[]string{"-dev", "-listen", "[::1]:8080"}, true},
		{[]string{"-dev", "-listen", "0.0.0.0:8080"}, false},
		{[]string{"-dev", "-listen", ":8080"}, false},
		{[]string{"-listen", ":8443"}, false},
		{[]string{"-listen", ":8443", "-tls-cert", "c", "-tls-key", "k", "-client-ca", "ca", "-age-identity", "id", "-smtp", "127.0.0.1:25"}, true},
		// Issue 13: without -smtp outside -dev, nhisim logged "mail sent"
		// and sent nothing; now it refuses to start.
		{[]string{"-listen", ":8443", "-tls-cert", "c", "-tls-key", "k", "-client-ca", "ca", "-age-identity", "id"}, false},
		{[]string{"-dev", "-listen", "127.0.0.1:1", "-mail-retry", "0s"}, false},
		{[]string{"-dev", "-listen", "127.0.0.1:1", "-fail", "1.5"}, false},
		{[]string{"-dev", "-listen", "127.0.0.1:1", "-card-auth", "off"}, true},
		{[]string{"-dev", "-listen", "127.0.0.1:1", "-card-auth", "sim"}, true},
		{[]string{"-dev", "-listen", "127.0.0.1:1", "-card-auth", "nhi"}, false},
	} {
		var stderr bytes.Buffer
		if _, err := parse(tt.args, &stderr); (err == nil) != tt.ok {
			t.Errorf("parse(%q) = %v, want ok %v", tt.args, err, tt.ok)
		}
	}
}

// TestFaultFlags: -fail 1 answers every request 503; -delay longer than
// the kiosk's timeout times it out. Both are "unavailable" to the kiosk,
// and a registration goes to the outbox.
func TestFaultFlags(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"fail", []string{"-fail", "1"}},
		{"delay", []string{"-delay", "2s"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := start(t, append([]string{"-dev", "-listen", "127.0.0.1:0", "-db", dir + "/f.db"}, tt.args...)...)
			id, err := loadIdentity(dir+"/f.db.agekey", false)
			if err != nil {
				t.Fatal(err)
			}
			ob, err := upstream.OpenOutbox(dir+"/outbox", id.Recipient().String(), nil)
			if err != nil {
				t.Fatal(err)
			}
			c := upstream.New(upstream.Options{BaseURL: p.url, Timeout: 300 * time.Millisecond, Attempts: 2, Backoff: time.Millisecond, Outbox: ob})
			if _, err := c.Terms(context.Background()); !errors.Is(err, upstream.ErrUnavailable) {
				t.Errorf("Terms = %v, want ErrUnavailable", err)
			}
			res, err := c.Register(context.Background(), upstreamPerson(9))
			if err != nil || !res.Queued {
				t.Errorf("Register = %+v, %v; want queued", res, err)
			}
		})
	}
}

// TestDivisionsFlag: -divisions serves another list than the built-in
// one, with its version; SIGHUP reads the file again and kiosks holding
// the old list's ETag get the new one.
func TestDivisionsFlag(t *testing.T) {
	dir := t.TempDir()
	csv := dir + "/divisions.csv"
	row := "63000,臺北市,Taipei City,63000050,中正區,Zhongzheng District,63000050001,建國里,Jianguo Vil.\n"
	if err := os.WriteFile(csv, []byte(divisions.HeaderLine+row), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "-dev", "-listen", "127.0.0.1:0", "-db", dir+"/d.db", "-divisions", csv, "-divisions-version", "2026-03-01")
	c := upstream.New(upstream.Options{BaseURL: p.url})
	d, tag, err := c.Divisions(context.Background(), "")
	if err != nil || d.Version != "2026-03-01" || len(d.Counties) != 1 || d.Counties[0].Townships[0].Villages[0].NameEn != "Jianguo Vil." {
		t.Fatalf("Divisions = %+v, %v; want only the file's row", d, err)
	}
	// A village added; SIGHUP.
	row2 := strings.ReplaceAll(strings.ReplaceAll(row, "050001", "050002"), "建國里,Jianguo", "光復里,Guangfu")
	if err := os.WriteFile(csv, []byte(divisions.HeaderLine+row+row2), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		d, _, err = c.Divisions(context.Background(), tag)
		if err == nil || i == 100 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || len(d.Counties[0].Townships[0].Villages) != 2 {
		t.Errorf("after SIGHUP: %+v, %v; want two villages", d, err)
	}
}

// TestDivisionsDefault: without -divisions nhisim serves the full list.
func TestDivisionsDefault(t *testing.T) {
	dir := t.TempDir()
	p := start(t, "-dev", "-listen", "127.0.0.1:0", "-db", dir+"/d.db")
	d, _, err := upstream.New(upstream.Options{BaseURL: p.url}).Divisions(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if c, tw, v := d.List().Counts(); c != 22 || tw != 368 || v != 7747 || d.Version != divisions.BuiltinVersion {
		t.Errorf("default list: %d counties, %d townships, %d villages, version %q", c, tw, v, d.Version)
	}
}
