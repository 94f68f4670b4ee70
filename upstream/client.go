package upstream

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Result is the outcome of Register: either the upstream's answer, or
// Queued when the upstream could not be reached and the registration is
// safe in the outbox (tell the person the e-mail will follow).
type Result struct {
	Registered
	Queued bool
}

// Client calls the upstream API. It is safe for concurrent use. Every
// call is bounded by the per-request timeout and by ctx; writes carry an
// Idempotency-Key so they are retried safely.
type Client struct {
	base     string
	hc       *http.Client
	attempts int
	backoff  time.Duration
	outbox   *Outbox
	log      *slog.Logger
	now      func() time.Time
	timeout  time.Duration // bound on one request, if known (long-polls stay below it)
	prover   CardProver
}

// Options configure a Client built with New.
type Options struct {
	// BaseURL is the upstream, e.g. "https://reg.example" or nhisim -dev's
	// "http://127.0.0.1:8443".
	BaseURL string
	// HTTPClient carries the TLS setup; nil means a client with Timeout
	// and no client certificate (nhisim -dev).
	HTTPClient *http.Client
	// Timeout bounds one request when HTTPClient is nil; 0 means 15s.
	Timeout time.Duration
	// Attempts is how often a call is tried before it fails with
	// ErrUnavailable; 0 means 3.
	Attempts int
	// Backoff is the first pause between attempts (doubling, with
	// jitter); 0 means 250ms.
	Backoff time.Duration
	// Outbox, if set, keeps registrations the upstream could not take.
	Outbox *Outbox
	// Logger gets one line per failed attempt (path and error kind only).
	Logger *slog.Logger
	// CardProver, if set, runs the card authentication of the calls that
	// need one and were given no proof (see CardProver); nil sends them
	// without one.
	CardProver CardProver
}

// New returns a Client.
func New(o Options) *Client {
	c := &Client{base: strings.TrimRight(o.BaseURL, "/"), hc: o.HTTPClient, attempts: o.Attempts,
		backoff: o.Backoff, outbox: o.Outbox, log: o.Logger, now: time.Now, prover: o.CardProver}
	if c.hc == nil {
		t := o.Timeout
		if t == 0 {
			t = 15 * time.Second
		}
		c.hc = &http.Client{Transport: newTransport(t, nil), Timeout: t}
	}
	c.timeout = c.hc.Timeout
	if c.attempts <= 0 {
		c.attempts = 3
	}
	if c.backoff <= 0 {
		c.backoff = 250 * time.Millisecond
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Outbox returns the client's outbox (nil if none).
func (c *Client) Outbox() *Outbox { return c.outbox }

// NewIdempotencyKey returns a fresh random key: 32 hex digits.
func NewIdempotencyKey() string {
	b := make([]byte, 16)
	crand.Read(b)
	return hex.EncodeToString(b)
}

// Terms fetches the current rules of the service.
func (c *Client) Terms(ctx context.Context) (Terms, error) {
	var t Terms
	err := c.do(ctx, http.MethodGet, PathTerms, "", "", nil, &t, c.attempts)
	return t, err
}

// Register validates r by the shared rules (a *Error with status 422 and
// every invalid field if it breaks one, nothing sent), then submits it.
// If the upstream cannot be reached and the client has an outbox, r is
// stored there, encrypted, under the same Idempotency-Key, and Register
// returns Result{Queued: true}: the outbox sends it later, exactly once.
// If ctx ends first (the session is over) nothing is queued and the error
// wraps ctx.Err(). r carries the card authentication's proof (CardAuth),
// which the outbox keeps with the rest; without one, a client with a
// CardProver gets one first, and queues nothing if that fails (a proof
// needs the upstream).
func (c *Client) Register(ctx context.Context, r Registration) (Result, error) {
	if f := r.Validate(c.now()); len(f) > 0 {
		return Result{}, local(f)
	}
	proof, err := c.cardProof(ctx, PurposeRegistration, r.CardNumber, r.IDNumber, []CallOption{WithCardAuth(r.CardAuth)})
	if err != nil {
		return Result{}, err
	}
	r.CardAuth = proof
	plain, err := EncodeBody(r)
	if err != nil {
		return Result{}, fmt.Errorf("register: encode: %w", err)
	}
	// The person's data, password included, leaves no copy behind
	// (issue 13): the body is zeroed once sent or queued.
	defer clear(plain)
	key := NewIdempotencyKey()
	var res Result
	err = c.do(ctx, http.MethodPost, PathRegistrations, key, ContentJSON, plain, &res.Registered, c.attempts)
	if err == nil || !errors.Is(err, ErrUnavailable) || c.outbox == nil {
		return res, err
	}
	if qerr := c.outbox.Enqueue(key, plain); qerr != nil {
		return Result{}, fmt.Errorf("register: upstream unavailable (%w) and queueing failed: %w", err, qerr)
	}
	c.log.Info("registration queued", "reason", "upstream_unavailable")
	return Result{Queued: true}, nil
}

// Verify confirms the 6-digit code from the e-mail. It needs a card
// authentication's proof (WithCardAuth) where the upstream authenticates
// cards.
func (c *Client) Verify(ctx context.Context, card, id, code string, opts ...CallOption) error {
	proof, err := c.cardProof(ctx, PurposeVerification, card, id, opts)
	if err != nil {
		return err
	}
	return c.write(ctx, PathVerifications, Verification{CardNumber: card, IDNumber: id, Code: code, CardAuth: proof})
}

// Resend asks for a new confirmation e-mail; the old code stops working.
func (c *Client) Resend(ctx context.Context, card, id string) error {
	return c.write(ctx, PathResend, Identify{CardNumber: card, IDNumber: id})
}

// Cancel deletes a pending application (刪除註冊申請). It needs a card
// authentication's proof, as Verify.
func (c *Client) Cancel(ctx context.Context, card, id, password string, opts ...CallOption) error {
	proof, err := c.cardProof(ctx, PurposeCancellation, card, id, opts)
	if err != nil {
		return err
	}
	return c.write(ctx, PathCancel, Cancellation{CardNumber: card, IDNumber: id, Password: password, CardAuth: proof})
}

// PasswordReset asks for a reset code by e-mail (忘記註冊密碼).
func (c *Client) PasswordReset(ctx context.Context, card, id string) error {
	return c.write(ctx, PathResets, Identify{CardNumber: card, IDNumber: id})
}

// PasswordResetConfirm sets a new password with the code from the e-mail.
// It needs a card authentication's proof, as Verify.
func (c *Client) PasswordResetConfirm(ctx context.Context, card, id, code, newPassword string, opts ...CallOption) error {
	proof, err := c.cardProof(ctx, PurposePasswordReset, card, id, opts)
	if err != nil {
		return err
	}
	return c.write(ctx, PathResetConfirm, ResetConfirm{CardNumber: card, IDNumber: id, Code: code, NewPassword: newPassword, CardAuth: proof})
}

func (c *Client) write(ctx context.Context, path string, body any) error {
	var reply StatusReply
	return c.post(ctx, "", path, body, &reply)
}

// post sends a write with a fresh Idempotency-Key (kept across retries).
// The encoded body is zeroed once the request is done.
func (c *Client) post(ctx context.Context, token, path string, body, out any) error {
	plain, err := EncodeBody(body)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", path, err)
	}
	defer clear(plain)
	return c.doTok(ctx, token, http.MethodPost, path, NewIdempotencyKey(), ContentJSON, plain, out, c.attempts)
}

// SendQueued sends one outbox entry as it is (age-encrypted) with its
// Idempotency-Key, once. It is the Outbox's SendFunc for this client.
func (c *Client) SendQueued(ctx context.Context, key string, blob []byte) error {
	var r Registered
	return c.do(ctx, http.MethodPost, PathRegistrations, key, ContentAgeJSON, blob, &r, 1)
}

// Run sends the outbox until ctx ends (see Outbox.Run).
func (c *Client) Run(ctx context.Context) error {
	if c.outbox == nil {
		<-ctx.Done()
		return nil
	}
	return c.outbox.Run(ctx, c.SendQueued)
}

// do sends one request up to attempts times. Transport errors and 5xx are
// retried with backoff (writes carry their key, so this is safe); a 4xx is
// returned at once as *Error; the last failure wraps ErrUnavailable.
func (c *Client) do(ctx context.Context, method, path, key, ctype string, body []byte, out any, attempts int) error {
	return c.doTok(ctx, "", method, path, key, ctype, body, out, attempts)
}

// doTok is do with a session token (Authorization: Bearer), if not empty.
func (c *Client) doTok(ctx context.Context, token, method, path, key, ctype string, body []byte, out any, attempts int) error {
	return c.retry(ctx, method, path, attempts, func() (bool, error) {
		return c.once(ctx, token, method, path, key, ctype, body, out)
	})
}

// retry runs once up to attempts times, with backoff between, until it
// says not to retry; the last failure wraps ErrUnavailable.
func (c *Client) retry(ctx context.Context, method, path string, attempts int, once func() (retry bool, err error)) error {
	var last error
	for i := range attempts {
		if i > 0 {
			if err := sleep(ctx, Backoff(c.backoff, time.Minute, i-1)); err != nil {
				break
			}
		}
		var retry bool
		retry, last = once()
		if !retry {
			return last
		}
		c.log.Warn("upstream attempt failed", "path", path, "attempt", i+1, "err", last)
	}
	if err := ctx.Err(); err != nil {
		// The caller gave up (the session ended): not "unavailable", so
		// Register does not queue what the person will not hear about.
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return fmt.Errorf("%s %s: %w: %w", method, path, ErrUnavailable, last)
}

func (c *Client) once(ctx context.Context, token, method, path, key, ctype string, body []byte, out any) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", ContentJSON)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if key != "" {
		req.Header.Set(HeaderIdemKey, key)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return ctx.Err() == nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	defer clear(b) // answers hold contact data, tokens and codes
	if err != nil {
		return true, fmt.Errorf("read answer: %w", err)
	}
	if err := ParseAnswer(resp.StatusCode, b, out); err != nil {
		var e *Error
		return errors.As(err, &e) && e.Status >= 500, err
	}
	return false, nil
}

// ParseAnswer decodes an upstream answer: a 2xx body into out, anything
// else into *Error (with a generic code if the body is not our envelope).
func ParseAnswer(status int, body []byte, out any) error {
	if status >= 200 && status < 300 {
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
		return nil
	}
	var eb ErrorBody
	if json.Unmarshal(body, &eb) != nil || eb.Error == nil || eb.Error.Code == "" {
		return &Error{Status: status, Code: fmt.Sprintf("http_%d", status)}
	}
	eb.Error.Status = status
	return eb.Error
}

// Backoff is the pause before retry n (from 0): base·2ⁿ capped at max,
// with "equal jitter" (a random half of it added to the other half), so
// kiosks that lost the upstream together do not return together.
func Backoff(base, max time.Duration, n int) time.Duration {
	d := base << min(n, 20)
	if d > max || d <= 0 {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
