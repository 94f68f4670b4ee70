package upstream

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// AccountSession is a logged-in person at the kiosk: the account services
// run through it. The wizard drops it (and calls Logout) when the card is
// removed or the session times out; the upstream also forgets it after
// ExpiresAt. It is safe for concurrent use.
type AccountSession struct {
	c  *Client
	mu sync.Mutex
	// token changes with a password change, which ends every session of the
	// account and its answer carries the new one.
	token string
	// ExpiresAt is when the session's first token expires; Expires
	// follows a renewal.
	ExpiresAt time.Time
	expires   time.Time
}

func (s *AccountSession) tok() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// Expires is when the session ends at the upstream, after any renewal.
func (s *AccountSession) Expires() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expires
}

// Login opens a session with the card and the registration password.
// Refusals: 403 wrong_password (counted by the upstream), 423
// account_locked (after MaxPasswordFails in a row: use forgot password,
// whose confirmation unlocks), 409 not_active, 404 not_found.
func (c *Client) Login(ctx context.Context, card, id, password string, opts ...CallOption) (*AccountSession, error) {
	proof, err := c.cardProof(ctx, PurposeLogin, card, id, opts)
	if err != nil {
		return nil, err
	}
	var s Session
	if err := c.post(ctx, "", PathSessions, Login{CardNumber: card, IDNumber: id, Password: password, CardAuth: proof}, &s); err != nil {
		return nil, err
	}
	return &AccountSession{c: c, token: s.Token, ExpiresAt: s.ExpiresAt, expires: s.ExpiresAt}, nil
}

// Bind is the phone's side of a binding: it presents the code with the
// device's name (nhisim bind). Refusals: 422 wrong_code (no such code),
// 409 code_used, 410 expired, 422 invalid.
func (c *Client) Bind(ctx context.Context, code, deviceName string) (Device, error) {
	var d Device
	if f := ValidateBind(code, deviceName); len(f) > 0 {
		return d, local(f)
	}
	err := c.post(ctx, "", PathBind, Bind{Code: code, DeviceName: deviceName}, &d)
	return d, err
}

func local(f []FieldError) error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: ErrCodeInvalid, Message: "checked at the kiosk", Fields: f}
}

// Logout ends the session at the upstream.
func (s *AccountSession) Logout(ctx context.Context) error {
	var r StatusReply
	return s.c.post(ctx, s.tok(), PathSessionEnd, struct{}{}, &r)
}

// Account returns the reference, the contact data and a pending e-mail.
func (s *AccountSession) Account(ctx context.Context) (Account, error) {
	var a Account
	err := s.c.doTok(ctx, s.tok(), http.MethodGet, PathAccount, "", "", nil, &a, s.c.attempts)
	return a, err
}

// ChangeContact changes the contact phone, mobile and backup e-mail at
// once and, if the primary e-mail differs, sends a code to the new one:
// the answer is then StatusEmailPending and the address changes only
// with ConfirmEmail. Fields are checked by the registration's rules
// first (422 invalid with field paths "phone", "mobile", "email",
// "backup_email", nothing sent).
func (s *AccountSession) ChangeContact(ctx context.Context, c Contact) (string, error) {
	if f := c.Validate(""); len(f) > 0 {
		return "", local(f)
	}
	var r ContactChanged
	err := s.c.post(ctx, s.tok(), PathContact, c, &r)
	return r.Status, err
}

// ConfirmEmail makes the pending primary e-mail the account's with the
// 6-digit code sent to it. Refusals as Verify: 422 wrong_code, 410
// expired, 429 too_many_tries, 409 not_pending.
func (s *AccountSession) ConfirmEmail(ctx context.Context, code string) error {
	if f := ValidateCode(code); len(f) > 0 {
		return local(f)
	}
	var r StatusReply
	return s.c.post(ctx, s.tok(), PathEmailConfirm, EmailConfirm{Code: code}, &r)
}

// ChangePassword changes the registration password. The upstream ends
// every session of the account, this one too, and answers with a new
// one, which the session uses from then on. Refusals: 422 invalid
// (new_password by the rules, or same_as_old), 403 wrong_password
// (counted; the fifth in a row locks: 423 account_locked).
func (s *AccountSession) ChangePassword(ctx context.Context, current, next string) error {
	if f := ValidatePasswordChange(current, next); len(f) > 0 {
		return local(f)
	}
	var r PasswordChanged
	if err := s.c.post(ctx, s.tok(), PathPassword, PasswordChange{CurrentPassword: current, NewPassword: next}, &r); err != nil {
		return err
	}
	if r.Token != "" {
		s.mu.Lock()
		s.token, s.expires = r.Token, r.ExpiresAt
		s.mu.Unlock()
	}
	return nil
}

// StartBinding starts a mobile device binding: via ViaScreen, the answer
// holds the 8-digit code to show (as digits and QR) until ExpiresAt; via
// ViaSMS, the code goes to the registered mobile and SentTo is its masked
// number.
func (s *AccountSession) StartBinding(ctx context.Context, via string) (Binding, error) {
	var b Binding
	err := s.c.post(ctx, s.tok(), PathBindings, BindingStart{Via: via}, &b)
	return b, err
}

// BindingStatus reports where a binding stands. With wait > 0 the
// upstream holds the answer until the binding is linked or expires, or
// wait passes (a long-poll); wait is capped at MaxBindingWait and below
// the client's request timeout. Call it in a loop until the status is
// not StatusWaiting or the person leaves.
func (s *AccountSession) BindingStatus(ctx context.Context, bindingID string, wait time.Duration) (BindingStatus, error) {
	wait = min(wait, MaxBindingWait)
	if t := s.c.timeout; t > 0 {
		wait = min(wait, t*2/3)
	}
	q := url.Values{"binding_id": {bindingID}}
	if wait > 0 {
		q.Set("wait", strconv.FormatInt(wait.Milliseconds(), 10)+"ms")
	}
	var st BindingStatus
	err := s.c.doTok(ctx, s.tok(), http.MethodGet, PathBindingStatus+"?"+q.Encode(), "", "", nil, &st, s.c.attempts)
	return st, err
}

// Devices lists the account's linked devices.
func (s *AccountSession) Devices(ctx context.Context) ([]Device, error) {
	var l DeviceList
	err := s.c.doTok(ctx, s.tok(), http.MethodGet, PathDevices, "", "", nil, &l, s.c.attempts)
	return l.Devices, err
}

// RemoveDevice unlinks one of the account's devices; another account's
// device (or none) is 404 not_found.
func (s *AccountSession) RemoveDevice(ctx context.Context, deviceID string) error {
	var r StatusReply
	return s.c.post(ctx, s.tok(), PathDeviceRemove, DeviceRemove{DeviceID: deviceID}, &r)
}
