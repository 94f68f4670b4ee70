package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// Finding 7, the smaller ones, each a subtest against the nhisim binary.
// (Stored answers being purged needs a clock: upstream/server's
// TestStoredAnswersPurged; an unknown ID's login costing as much as a
// known one's is measured by upstream's BenchmarkLoginUnknownVsKnown.)
func TestSmallerFindings(t *testing.T) {
	e := newE2E(t)
	ctx := context.Background()
	regBody := func(r upstream.Registration) []byte { b, _ := json.Marshal(r); return b }

	t.Run("text fields refuse control, bidi and invisible characters", func(t *testing.T) {
		for i, name := range []string{"測試\x00一", "測試\r\n一", "\x1b[31m測試", "測試\u202e一", "   ", "\u200b\u200b", "\ufeff"} {
			p := e.person(700 + i)
			p.Name = name
			st, eb := e.post(t, upstream.PathRegistrations, upstream.NewIdempotencyKey(), regBody(p))
			if got := fieldsOf(eb); st != 422 || (got != "invalid name:characters" && got != "invalid name:required") {
				t.Errorf("name %q: %d %s, want 422 name:characters or name:required", name, st, got)
			}
		}
		p := e.person(710)
		p.Name = "測試\u202e一"
		st, _ := e.post(t, upstream.PathRegistrations, upstream.NewIdempotencyKey(), regBody(p))
		if st != 422 {
			t.Fatalf("a refused name was registered: %d", st)
		}
	})

	t.Run("invalid UTF-8 is refused, not replaced", func(t *testing.T) {
		p := e.person(711)
		body := bytes.Replace(regBody(p), []byte(p.Contact.Email), []byte("e2e-\xff@example.com"), 1)
		if st, eb := e.post(t, upstream.PathRegistrations, upstream.NewIdempotencyKey(), body); st != 400 || eb.Error.Code != upstream.ErrCodeBadRequest {
			t.Errorf("invalid UTF-8 in the e-mail: %d %s, want 400 bad_request", st, fieldsOf(eb))
		}
		body = bytes.Replace(regBody(p), []byte(p.Contact.Email), []byte(`e2e-\ud800@example.com`), 1)
		if st, _ := e.post(t, upstream.PathRegistrations, upstream.NewIdempotencyKey(), body); st != 400 {
			t.Errorf("an escaped lone surrogate: %d, want 400", st)
		}
	})

	t.Run("keys are exact and unique", func(t *testing.T) {
		p := e.person(712)
		body := bytes.Replace(regBody(p), []byte(`"card_number"`), []byte(`"CARD_NUMBER"`), 1)
		if st, _ := e.post(t, upstream.PathRegistrations, upstream.NewIdempotencyKey(), body); st != 400 {
			t.Errorf("a key in upper case: %d, want 400", st)
		}
		body = bytes.Replace(regBody(p), []byte(`{"card_number"`), []byte(`{"name":"別人","card_number"`), 1)
		if st, _ := e.post(t, upstream.PathRegistrations, upstream.NewIdempotencyKey(), body); st != 400 {
			t.Errorf("the name twice: %d, want 400", st)
		}
	})

	t.Run("every string is bounded", func(t *testing.T) {
		p := e.person(713)
		p.KioskID = strings.Repeat("k", 60_000)
		if st, eb := e.post(t, upstream.PathRegistrations, upstream.NewIdempotencyKey(), regBody(p)); st != 422 || fieldsOf(eb) != "invalid kiosk_id:length" {
			t.Errorf("kiosk_id of 60,000: %d %s", st, fieldsOf(eb))
		}
		p = e.person(714)
		p.Contact.Email = strings.Repeat("a", 200) + "@example.com"
		if st, eb := e.post(t, upstream.PathRegistrations, upstream.NewIdempotencyKey(), regBody(p)); st != 422 || fieldsOf(eb) != "invalid contact.email:length" {
			t.Errorf("local part of 200: %d %s", st, fieldsOf(eb))
		}
	})

	t.Run("an early 422 is kept for its key", func(t *testing.T) {
		p := e.person(715)
		bad := p
		bad.Household.Neighbourhood = 0
		key := upstream.NewIdempotencyKey()
		if st, _ := e.post(t, upstream.PathRegistrations, key, regBody(bad)); st != 422 {
			t.Fatalf("first answer %d, want 422", st)
		}
		st, eb := e.post(t, upstream.PathRegistrations, key, regBody(p))
		if st != 422 || eb.Error.Code != upstream.ErrCodeIdemKeyReused {
			t.Errorf("another body under the key of a 422: %d %s, want 422 idempotency_key_reused", st, fieldsOf(eb))
		}
	})

	t.Run("one account per ID number", func(t *testing.T) {
		p := e.person(716)
		if _, err := e.c.Register(ctx, p); err != nil {
			t.Fatal(err)
		}
		q := p
		q.CardNumber = "912345678901"
		_, err := e.c.Register(ctx, q)
		wantErr(t, "the same ID with another card, pending", err, 409, upstream.ErrCodePendingExists)
		if err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, e.code(t, p, 1)); err != nil {
			t.Fatal(err)
		}
		_, err = e.c.Register(ctx, q)
		wantErr(t, "the same ID with another card, active", err, 409, upstream.ErrCodeAlreadyRegistered)
		// A replaced card keeps the account.
		if _, err := e.c.Login(ctx, q.CardNumber, q.IDNumber, q.Password); err != nil {
			t.Errorf("login with the new card of the same ID: %v", err)
		}
	})

	t.Run("common passwords are refused", func(t *testing.T) {
		for i, pw := range []string{"111111", "password", "Password1!", "a123456"} {
			p := e.person(720 + i)
			p.Password = pw
			if st, eb := e.post(t, upstream.PathRegistrations, upstream.NewIdempotencyKey(), regBody(p)); st != 422 || fieldsOf(eb) != "invalid password:common" {
				t.Errorf("password %q: %d %s, want 422 password:common", pw, st, fieldsOf(eb))
			}
		}
	})

	t.Run("only a kiosk's certificate registers", func(t *testing.T) {
		phone := e.ca.Phone(t, "phone-7")
		u := e.cfg.Upstream
		u.ClientCertFile, u.ClientKeyFile = phone.CertFile, phone.KeyFile
		st, eb := e.postAs(t, u, upstream.PathRegistrations, upstream.NewIdempotencyKey(), regBody(e.person(730)))
		if st != 403 || eb.Error.Code != upstream.ErrCodeForbidden {
			t.Errorf("a phone registering: %d %s, want 403 forbidden", st, fieldsOf(eb))
		}
		none := e.ca.WithRoles(t, "no-role")
		u.ClientCertFile, u.ClientKeyFile = none.CertFile, none.KeyFile
		if st, _ := e.postAs(t, u, upstream.PathRegistrations, upstream.NewIdempotencyKey(), regBody(e.person(731))); st != 403 {
			t.Errorf("a certificate with no role registering: %d, want 403", st)
		}
		st, eb = e.post(t, upstream.PathBind, upstream.NewIdempotencyKey(), []byte(`{"code":"12345678","device_name":"x"}`))
		if st != 403 || eb.Error.Code != upstream.ErrCodeForbidden {
			t.Errorf("a kiosk binding as a phone: %d %s, want 403 forbidden", st, fieldsOf(eb))
		}
	})

	t.Run("an unknown ID logs in like a wrong password", func(t *testing.T) {
		p := e.active(t, 732)
		_, known := e.c.Login(ctx, p.CardNumber, p.IDNumber, "Wrong1!x")
		nobody := e.person(733)
		_, unknown := e.c.Login(ctx, nobody.CardNumber, nobody.IDNumber, "Wrong1!x")
		wantErr(t, "known ID, wrong password", known, 403, upstream.ErrCodeWrongPassword)
		wantErr(t, "unknown ID", unknown, 403, upstream.ErrCodeWrongPassword)
		if known.Error() != unknown.Error() {
			t.Errorf("the answers differ: %v / %v", known, unknown)
		}
	})

	t.Run("no -smtp, no start", func(t *testing.T) {
		args := []string{}
		for i := 0; i < len(e.args); i++ {
			switch e.args[i] {
			case "-smtp":
				i++
				continue
			case "-db": // not the running nhisim's, which is locked
				args = append(args, "-db", filepath.Join(t.TempDir(), "other.db"))
				i++
				continue
			}
			args = append(args, e.args[i])
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, nhisimBinary(t), args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "-smtp") {
			t.Errorf("nhisim without -smtp: %v\n%s", err, out)
		}
	})
}

// Finding 7: a crash between sending and recording gave a duplicate
// e-mail, and e-mails had no Message-ID. A relay that has the message
// when nhisim is killed gets it again after the restart (SMTP is at
// least once), now with the same Message-ID, so the copies are
// recognisably one message.
func TestResentMailKeepsItsMessageID(t *testing.T) {
	front := upstreamtest.StartSMTPFront(t, mailpitSMTP(t))
	e := newE2EWith(t, front.Addr, "-mail-retry", "300ms")
	passed, release := front.HoldNext()
	defer release()
	p := e.person(740)
	if _, err := e.c.Register(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	select {
	case <-passed:
	case <-time.After(15 * time.Second):
		t.Fatal("the confirmation never reached the relay")
	}
	e.nhisim.cmd.Process.Signal(syscall.SIGKILL)
	e.nhisim.cmd.Wait()
	release()
	e.nhisim = start(t, e.args...)
	second := e.mp.Wait(t, p.Contact.Email, 2)
	first := e.mp.To(t, p.Contact.Email)[0]
	if first.MessageID == "" || first.MessageID != second.MessageID {
		t.Errorf("Message-IDs %q and %q: want one, present in both", first.MessageID, second.MessageID)
	}
	if !strings.HasSuffix(first.MessageID, "@localhost") {
		t.Errorf("Message-ID %q is not in nhisim's mail domain", first.MessageID)
	}
}
