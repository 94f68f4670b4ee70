package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// TestPasswordCheckOutsideWriteTransaction is issue 13's finding 4:
// bcrypt ran inside the write transaction, so eight clients sending
// wrong passwords slowed an unrelated write from 2 ms to 1.2 s. With a
// bcrypt cost that makes one compare take a good while, an unrelated
// write (a resend) started while a login compares must be answered
// before that login is: it waits for no lock the login holds. (Before,
// it could only be answered after the login's commit, and its own.) (The
// speed itself is measured by upstream's BenchmarkRegisterWhileGuessing.)
func TestPasswordCheckOutsideWriteTransaction(t *testing.T) {
	box := upstreamtest.NewMailbox()
	// Card authentication (issue 24) is off: this is about the password.
	sim := upstreamtest.Start(t, server.Options{Mailer: box, PasswordCost: 12, CardAuth: server.CardAuthOff}, nil)
	c := upstream.New(upstream.Options{BaseURL: sim.URL, Attempts: 1, Timeout: 2 * time.Minute})
	ctx := context.Background()
	p, q := upstreamtest.Person(401), upstreamtest.Person(402)
	for _, r := range []upstream.Registration{p, q} {
		if _, err := c.Register(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Verify(ctx, p.CardNumber, p.IDNumber, box.WaitCode(t, p.Contact.Email, 1)); err != nil {
		t.Fatal(err)
	}
	type done struct {
		at  time.Time
		err error
	}
	login := make(chan done, 1)
	start := time.Now()
	go func() {
		_, err := c.Login(ctx, p.CardNumber, p.IDNumber, "Wrong1!x")
		login <- done{time.Now(), err}
	}()
	time.Sleep(100 * time.Millisecond) // the login is comparing (cost 12: hundreds of ms)
	if err := c.Resend(ctx, q.CardNumber, q.IDNumber); err != nil {
		t.Fatal(err)
	}
	resent := time.Now()
	l := <-login
	wantCode(t, "the login", l.err, 403, upstream.ErrCodeWrongPassword)
	// Scale-free, so a loaded machine does not matter: before, the write
	// was answered right after the login (its commit came first); now it
	// is answered while the login is still comparing.
	if took, loginTook := resent.Sub(start), l.at.Sub(start); took > loginTook*3/4 {
		t.Fatalf("an unrelated write started during a login's compare was answered after %v, the login after %v: it waited for the bcrypt", took, loginTook)
	}
}

// TestStoredAnswersPurged: an answer kept for an Idempotency-Key, a 422
// included, is purged after upstream.IdemRetention (issue 13: they were
// kept for ever); a registration still recognises its own replay after
// that, so an outbox that sends late registers no one twice.
func TestStoredAnswersPurged(t *testing.T) {
	e := newEnv(t)
	p := upstreamtest.Person(403)
	p.CardAuth = e.sim.Proof(t, upstream.PurposeRegistration, p.CardNumber, p.IDNumber)
	bad := p
	bad.Name = ""
	badKey, goodKey := upstream.NewIdempotencyKey(), upstream.NewIdempotencyKey()
	if st, _ := post(t, e.sim.URL+upstream.PathRegistrations, badKey, mustJSON(t, bad)); st != 422 {
		t.Fatalf("invalid registration = %d", st)
	}
	resp, first := do(t, "POST", e.sim.URL+upstream.PathRegistrations, goodKey, upstream.ContentJSON, mustJSON(t, p))
	if resp.StatusCode != 201 {
		t.Fatalf("registration = %d", resp.StatusCode)
	}
	if n, err := e.sim.Server.Purge(); err != nil || n.Answers != 0 {
		t.Fatalf("Purge at once = %+v, %v; want nothing purged", n, err)
	}
	e.clk.add(upstream.IdemRetention + time.Hour)
	if n, err := e.sim.Server.Purge(); err != nil || n.Answers != 2 {
		t.Fatalf("Purge after the retention = %+v, %v; want the 2 answers", n, err)
	}
	// The key of the 422 is free again.
	q := upstreamtest.Person(404)
	q.CardAuth = e.sim.Proof(t, upstream.PurposeRegistration, q.CardNumber, q.IDNumber)
	if st, _ := post(t, e.sim.URL+upstream.PathRegistrations, badKey, mustJSON(t, q)); st != 201 {
		t.Errorf("a new request under a purged key = %d, want 201", st)
	}
	// The registration's own replay still gets its 201, the same one,
	// though its card's proof was used by the first time.
	resp, again := do(t, "POST", e.sim.URL+upstream.PathRegistrations, goodKey, upstream.ContentJSON, mustJSON(t, p))
	if resp.StatusCode != 201 || string(again) != string(first) {
		t.Errorf("replay after the purge = %d %s, want 201 %s", resp.StatusCode, again, first)
	}
	if s := e.sim.Server.Stats(); s.Created != 2 {
		t.Errorf("created %d registrations, want 2", s.Created)
	}
}

// TestLockSaysUntilWhen: a 429 carries retry_at and Retry-After; a lock
// with an end ends, and the next one lasts twice as long.
func TestLockSaysUntilWhen(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := upstreamtest.Person(405)
	if _, err := e.c.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	code := e.box.WaitCode(t, p.Contact.Email, 1)
	lock := func(want time.Duration) {
		t.Helper()
		for range upstream.MaxTries - 1 {
			wantCode(t, "wrong code", e.c.Verify(ctx, p.CardNumber, p.IDNumber, otherCode6(code)), 422, upstream.ErrCodeWrongCode)
		}
		err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, otherCode6(code))
		wantCode(t, "locking code", err, 429, upstream.ErrCodeTooManyTries)
		ue := err.(*upstream.Error)
		if got := ue.RetryAt.Sub(e.clk.now()); got < want || got > want+2*time.Second {
			t.Fatalf("retry_at is %v ahead, want %v", got, want)
		}
	}
	lock(upstream.LockDuration)
	e.clk.add(upstream.LockDuration + time.Second)
	lock(2 * upstream.LockDuration)
	resp, _ := do(t, "POST", e.sim.URL+upstream.PathVerifications, upstream.NewIdempotencyKey(), upstream.ContentJSON,
		mustJSON(t, upstream.Verification{CardNumber: p.CardNumber, IDNumber: p.IDNumber, Code: code,
			CardAuth: e.sim.Proof(t, upstream.PurposeVerification, p.CardNumber, p.IDNumber)}))
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("locked verification = %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	e.clk.add(2*upstream.LockDuration + time.Second)
	if err := e.c.Verify(ctx, p.CardNumber, p.IDNumber, code); err != nil {
		t.Errorf("the right code after the lock: %v", err)
	}
}

// TestClientGuessBudget: one client's failed guesses, whatever accounts
// they were at, stop it for the window; a 429 for the client is not
// stored for its key.
func TestClientGuessBudget(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var err error
	for n := range upstream.ClientGuessMax {
		q := upstreamtest.Person(500 + n)
		err = e.c.Verify(ctx, q.CardNumber, q.IDNumber, "123456")
		wantCode(t, "unknown account", err, 404, upstream.ErrCodeNotFound)
	}
	q := upstreamtest.Person(600)
	key := upstream.NewIdempotencyKey()
	body := mustJSON(t, upstream.Identify{CardNumber: q.CardNumber, IDNumber: q.IDNumber})
	if st, eb := post(t, e.sim.URL+upstream.PathResend, key, body); st != 429 || eb.Error.RetryAt == nil {
		t.Fatalf("over the client's budget = %d %+v, want 429 with retry_at", st, eb.Error)
	}
	e.clk.add(upstream.ClientGuessWindow)
	if st, _ := post(t, e.sim.URL+upstream.PathResend, key, body); st != 404 {
		t.Errorf("the same request after the window = %d, want 404 (the 429 was not kept)", st)
	}
}
