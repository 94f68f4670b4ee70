package upstream_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// deadURL is a loopback address where nothing listens.
func deadURL(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func openOutbox(t *testing.T, recipient string) *upstream.Outbox {
	t.Helper()
	ob, err := upstream.OpenOutbox(filepath.Join(t.TempDir(), "outbox"), recipient, nil)
	if err != nil {
		t.Fatal(err)
	}
	return ob
}

func TestRegisterQueuedThenSent(t *testing.T) {
	box := upstreamtest.NewMailbox()
	sim := upstreamtest.Start(t, server.Options{Mailer: box}, nil)
	ob := openOutbox(t, sim.Recipient)
	down := upstream.New(upstream.Options{BaseURL: deadURL(t), Attempts: 2, Backoff: time.Millisecond, Outbox: ob})
	p := upstreamtest.Person(40)
	// The card was authenticated while the upstream answered; the proof
	// goes into the outbox with the registration.
	p.CardAuth = sim.Proof(t, upstream.PurposeRegistration, p.CardNumber, p.IDNumber)
	res, err := down.Register(context.Background(), p)
	if err != nil || !res.Queued {
		t.Fatalf("Register with the upstream down = %+v, %v; want queued", res, err)
	}
	// The queued file holds no personal data in clear, and only the
	// upstream's identity opens it.
	files, _ := filepath.Glob(filepath.Join(ob.Dir(), "*.age"))
	if len(files) != 1 {
		t.Fatalf("outbox files = %v, want 1", files)
	}
	blob, _ := os.ReadFile(files[0])
	for _, v := range []string{p.CardNumber, p.IDNumber, p.Contact.Email, p.Password, p.Contact.Mobile} {
		if bytes.Contains(blob, []byte(v)) {
			t.Errorf("outbox file contains a personal value in clear")
		}
	}
	if _, err := age.Decrypt(bytes.NewReader(blob), sim.Identity); err != nil {
		t.Errorf("the upstream's identity cannot open the outbox file: %v", err)
	}
	up := upstream.New(upstream.Options{BaseURL: sim.URL, Outbox: ob})
	if err := ob.Flush(context.Background(), up.SendQueued); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if n, _ := ob.Len(); n != 0 {
		t.Errorf("outbox Len after flush = %d, want 0", n)
	}
	box.WaitCode(t, p.Contact.Email, 1)
	if s := sim.Server.Stats(); s.Created != 1 {
		t.Errorf("Created = %d, want 1", s.Created)
	}
}

// TestAnswerLostThenQueued: the upstream registers the person but the
// answer never arrives; the outbox resends under the same key and the
// upstream replays its first answer: one registration, one e-mail.
func TestAnswerLostThenQueued(t *testing.T) {
	box := upstreamtest.NewMailbox()
	sim := upstreamtest.Start(t, server.Options{Mailer: box}, nil)
	h := sim.Server.Handler()
	var calls atomic.Int32
	lossy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(httptest.NewRecorder(), r) // processed, answer dropped
		calls.Add(1)
		panic(http.ErrAbortHandler)
	}))
	defer lossy.Close()
	ob := openOutbox(t, sim.Recipient)
	c := upstream.New(upstream.Options{BaseURL: lossy.URL, Attempts: 3, Backoff: time.Millisecond, Outbox: ob})
	p := upstreamtest.Person(41)
	p.CardAuth = sim.Proof(t, upstream.PurposeRegistration, p.CardNumber, p.IDNumber)
	res, err := c.Register(context.Background(), p)
	if err != nil || !res.Queued {
		t.Fatalf("Register = %+v, %v; want queued", res, err)
	}
	good := upstream.New(upstream.Options{BaseURL: sim.URL})
	if err := ob.Flush(context.Background(), good.SendQueued); err != nil {
		t.Fatal(err)
	}
	box.WaitCode(t, p.Contact.Email, 1)
	if s := sim.Server.Stats(); s.Created != 1 || s.Conflicts != 0 || s.Replayed != int64(calls.Load()) {
		t.Errorf("Stats = %+v after %d lost answers, want 1 created, 0 conflicts, %d replayed", s, calls.Load(), calls.Load())
	}
}

func TestRetryOn5xx(t *testing.T) {
	sim := upstreamtest.Start(t, server.Options{}, nil)
	h := sim.Server.Handler()
	var n atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusBadGateway)
			return
		}
		h.ServeHTTP(w, r)
	}))
	defer flaky.Close()
	c := upstream.New(upstream.Options{BaseURL: flaky.URL, Attempts: 3, Backoff: time.Millisecond})
	p := upstreamtest.Person(42)
	p.CardAuth = sim.Proof(t, upstream.PurposeRegistration, p.CardNumber, p.IDNumber)
	res, err := c.Register(context.Background(), p)
	if err != nil || res.Queued || res.Status != upstream.StatusPendingEmail {
		t.Fatalf("Register after two 502s = %+v, %v", res, err)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("requests = %d, want 3", got)
	}
}

func TestRegisterChecksFirst(t *testing.T) {
	sim := upstreamtest.Start(t, server.Options{}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL})
	p := upstreamtest.Person(43)
	p.Contact.BackupEmail = p.Contact.Email
	p.Contact.Mobile = "0812345678"
	_, err := c.Register(context.Background(), p)
	f := upstream.Fields(err)
	if upstream.Code(err) != upstream.ErrCodeInvalid || len(f) != 2 || f[0].Field != "contact.mobile" || f[1].Field != "contact.backup_email" || f[1].Code != "same_as_primary" {
		t.Fatalf("Register = %v, fields %+v; want mobile and backup_email", err, f)
	}
	if s := sim.Server.Stats(); s.Created+s.Conflicts != 0 {
		t.Errorf("an invalid registration reached the server")
	}
}

func TestOutboxFinalAndDead(t *testing.T) {
	sim := upstreamtest.Start(t, server.Options{}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL})
	// Encrypted to a key the server does not hold: 400, a dead letter.
	stranger, _ := age.GenerateX25519Identity()
	ob := openOutbox(t, stranger.Recipient().String())
	if err := ob.Enqueue(upstream.NewIdempotencyKey(), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := ob.Flush(context.Background(), c.SendQueued); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if n, _ := ob.Dead(); n != 1 {
		t.Errorf("Dead = %d, want 1", n)
	}
	// A 422 is final: kept as a dead letter, never deleted (issue 13).
	ob2 := openOutbox(t, sim.Recipient)
	bad := upstreamtest.Person(44)
	bad.Name = ""
	if err := ob2.Enqueue(upstream.NewIdempotencyKey(), mustJSON(t, bad)); err != nil {
		t.Fatal(err)
	}
	if err := ob2.Flush(context.Background(), c.SendQueued); err != nil {
		t.Fatal(err)
	}
	if n, _ := ob2.Len(); n != 0 {
		t.Errorf("Len after a 422 = %d, want 0", n)
	}
	if n, _ := ob2.Dead(); n != 1 {
		t.Errorf("Dead after a 422 = %d, want 1", n)
	}
	// Unreachable: kept, error wraps ErrUnavailable.
	ob3 := openOutbox(t, sim.Recipient)
	ob3.Enqueue(upstream.NewIdempotencyKey(), mustJSON(t, upstreamtest.Person(45)))
	dead := upstream.New(upstream.Options{BaseURL: deadURL(t)})
	if err := ob3.Flush(context.Background(), dead.SendQueued); !errors.Is(err, upstream.ErrUnavailable) {
		t.Errorf("Flush to a dead upstream = %v, want ErrUnavailable", err)
	}
	if n, _ := ob3.Len(); n != 1 {
		t.Errorf("Len after a failed flush = %d, want 1", n)
	}
}

func TestOutboxRun(t *testing.T) {
	box := upstreamtest.NewMailbox()
	// About the outbox's sending: registrations without card proofs.
	sim := upstreamtest.Start(t, server.Options{Mailer: box, CardAuth: server.CardAuthOff}, nil)
	ob := openOutbox(t, sim.Recipient)
	c := upstream.New(upstream.Options{BaseURL: sim.URL, Outbox: ob})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	for i := 50; i < 53; i++ {
		if err := ob.Enqueue(upstream.NewIdempotencyKey(), mustJSON(t, upstreamtest.Person(i))); err != nil {
			t.Fatal(err)
		}
	}
	for i := 50; i < 53; i++ {
		box.WaitCode(t, upstreamtest.Person(i).Contact.Email, 1)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

func TestBackoff(t *testing.T) {
	for n := range 30 {
		d := upstream.Backoff(time.Second, time.Minute, n)
		hi := min(time.Second<<min(n, 20), time.Minute)
		if d < hi/2 || d > hi {
			t.Errorf("Backoff(1s, 1m, %d) = %v, want in [%v, %v]", n, d, hi/2, hi)
		}
	}
}

func FuzzParseAnswer(f *testing.F) {
	f.Add(422, []byte(`{"error":{"code":"invalid","fields":[{"field":"contact.email","code":"format"}]}}`))
	f.Add(201, []byte(`{"registration_id":"x","reference":"R1","status":"pending_email"}`))
	f.Add(500, []byte(`<html>`))
	f.Add(200, []byte(`{"status":"linked","expires_at":"2026-11-27T10:05:00Z","device":{"device_id":"d","name":"P","linked_at":"2026-11-27T10:00:00Z","last_used":"2026-11-27T10:00:00Z"}}`))
	f.Add(201, []byte(`{"token":"t","expires_at":"2026-11-27T10:15:00Z"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		// Every answer type the client decodes, registration and account services.
		for _, out := range []any{&upstream.Registered{}, &upstream.Session{}, &upstream.Binding{},
			&upstream.BindingStatus{}, &upstream.DeviceList{}, &upstream.Account{}, &upstream.Device{}} {
			err := upstream.ParseAnswer(status, body, out)
			var e *upstream.Error
			if (status < 200 || status >= 300) && (!errors.As(err, &e) || e.Code == "" || e.Status != status) {
				t.Fatalf("ParseAnswer(%d) = %v, want *Error with a code", status, err)
			}
		}
	})
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var jsonMarshal = json.Marshal

// TestRegisterCancelledNotQueued: a session that ends while the upstream
// is unreachable queues nothing.
func TestRegisterCancelledNotQueued(t *testing.T) {
	sim := upstreamtest.Start(t, server.Options{}, nil)
	ob := openOutbox(t, sim.Recipient)
	c := upstream.New(upstream.Options{BaseURL: deadURL(t), Attempts: 5, Backoff: time.Hour, Outbox: ob})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Register(ctx, upstreamtest.Person(46))
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, upstream.ErrUnavailable) {
		t.Fatalf("Register = %v, want the context's error", err)
	}
	if n, _ := ob.Len(); n != 0 {
		t.Errorf("queued %d after the session ended", n)
	}
}
