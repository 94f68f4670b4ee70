package manager

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Logins with a second factor, API tokens, and keeping browser sessions
// in step with their accounts (issue 19).

// TOTPFailuresPerUser is how many wrong second-factor codes one user may
// enter in LoginWindow (six digits are guessable without a limit).
const TOTPFailuresPerUser = 5

// pendingLoginLife is how long a right password waits for its code.
const pendingLoginLife = 5 * time.Minute

var errTOTPNeedsToken = errors.New("this account has a second factor: scripts use an API token (Authorization: Bearer)")

// pendingLogins are logins whose password was right and whose
// second-factor code is awaited: random token → user name.
type pendingLogins struct {
	mu sync.Mutex
	m  map[string]pendingLogin
}

type pendingLogin struct {
	user    string
	expires time.Time
}

func (p *pendingLogins) create(user string) string {
	tok := token()
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[string]pendingLogin{}
	}
	for k, v := range p.m {
		if now.After(v.expires) {
			delete(p.m, k)
		}
	}
	if len(p.m) < maxSessions {
		p.m[tok] = pendingLogin{user, now.Add(pendingLoginLife)}
	}
	return tok
}

// take returns the user of pending login tok, and forgets it.
func (p *pendingLogins) take(tok string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, ok := p.m[tok]
	delete(p.m, tok)
	return v.user, ok && time.Now().Before(v.expires)
}

// loginTOTP finishes a login with its second-factor code, within the
// user's attempt budget.
func (w *Web) loginTOTP(rw http.ResponseWriter, r *http.Request, _ User) {
	next := LocalPath(r.PostFormValue("next"))
	name, ok := w.pending.take(r.PostFormValue("pending"))
	if !ok {
		http.Redirect(rw, r, "/login?err=1&next="+next, http.StatusSeeOther)
		return
	}
	if allowed, _ := w.byTOTP.Allow(name); !allowed {
		w.m.metrics.logins.Add(1)
		w.m.log.Warn("fleetd login refused", "user", name, "remote", clientAddr(r), "why", "too many wrong codes")
		http.Error(rw, errTooManyLogins.Error(), http.StatusTooManyRequests)
		return
	}
	u, err := w.m.CheckTOTP(name, strings.TrimSpace(r.PostFormValue("code")))
	if err == nil && u.Disabled {
		err = ErrDisabled
	}
	if err != nil {
		w.byTOTP.Fail(name)
		w.m.metrics.logins.Add(1)
		w.m.log.Warn("fleetd login refused", "user", name, "remote", clientAddr(r), "why", "wrong second-factor code")
		w.render(rw, r, "totp", map[string]any{"Pending": w.pending.create(name), "Next": next, "Error": true, "User": u})
		return
	}
	w.byTOTP.Succeed(name)
	w.startSession(rw, r, u, next)
}

// bearer returns the API token of "Authorization: Bearer …".
func bearer(r *http.Request) (string, bool) {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(v), ok
}

// checkToken finds the user an API token acts as; failures count against
// the client address's login budget.
func (w *Web) checkToken(r *http.Request, secret string) (User, error) {
	addr := clientAddr(r)
	if ok, _ := w.byAddr.Allow(addr); !ok {
		w.m.metrics.logins.Add(1)
		return User{}, errTooManyLogins
	}
	u, err := w.m.tokenUser(secret)
	if err != nil {
		w.byAddr.Fail(addr)
		w.m.metrics.logins.Add(1)
		w.m.log.Warn("fleetd API token refused", "remote", addr)
		return User{}, err
	}
	return u, nil
}

// refresh makes every browser session of account u act as u now (its
// role, sites or language changed); a disabled account's sessions end.
func (s *sessions) refresh(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, se := range s.m {
		if se.user.Name != u.Name {
			continue
		}
		if u.Disabled {
			delete(s.m, tok)
			continue
		}
		csrf := se.user.CSRF
		se.user = u
		se.user.CSRF, se.user.Hash, se.user.TOTP, se.user.TOTPPending = csrf, nil, nil, nil
		s.m[tok] = se
	}
}

// dropUser ends every session of account name (its password was reset).
func (s *sessions) dropUser(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tok, se := range s.m {
		if se.user.Name == name {
			delete(s.m, tok)
		}
	}
}
