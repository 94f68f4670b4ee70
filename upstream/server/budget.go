package server

import (
	"encoding/json"
	"net/http"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// Budget is how many attempts one subject (an account, a client
// certificate) has at one guessable secret, or at one action that costs
// (sending an e-mail), before it is locked. It is the one attempt-budget
// type for every guessable secret (STYLE.md): verification, reset and
// e-mail change codes, login and cancellation passwords, binding codes,
// each client's guesses, and the e-mails a person may ask for. Its state
// lives in bbolt, so neither a new code nor a restart resets it (issue 13:
// the 5-wrong-codes lock reset whenever a new code was asked for); only
// Reset, after a success, does.
type Budget struct {
	// Max attempts are allowed; the Max-th locks.
	Max int
	// Per is the window attempts are counted in, from the first one; 0
	// counts until a success resets them.
	Per time.Duration
	// Lock is how long the first lock lasts; each further lock lasts
	// twice as long as the one before, up to MaxLock. Lock 0 locks until
	// the window ends (Per > 0) or until Reset (Per 0: only a success
	// elsewhere, such as a password reset, lifts it).
	Lock, MaxLock time.Duration
}

// spent is a Budget's state for one subject.
type spent struct {
	N     int       `json:"n"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`          // locked until (zero: not locked by time)
	Held  bool      `json:"held,omitempty"` // locked until Reset
	Locks int       `json:"locks,omitempty"`
	Last  time.Time `json:"last"`
}

// locked reports whether sp is locked at now, and until when (zero when
// only Reset ends it).
func (b Budget) locked(sp spent, now time.Time) (bool, time.Time) {
	if sp.Held {
		return true, time.Time{}
	}
	return now.Before(sp.Until), sp.Until
}

// spend counts one attempt at now and reports whether the budget is
// locked after it. Attempts while locked are not counted.
func (b Budget) spend(sp *spent, now time.Time) bool {
	if l, _ := b.locked(*sp, now); l {
		return true
	}
	if sp.Since.IsZero() || b.Per > 0 && now.Sub(sp.Since) >= b.Per {
		sp.N, sp.Since = 0, now
	}
	sp.N++
	sp.Last = now
	if sp.N < b.Max {
		return false
	}
	sp.N = 0
	switch {
	case b.Lock > 0:
		d := b.Lock
		for range sp.Locks {
			if d *= 2; b.MaxLock > 0 && d >= b.MaxLock || d <= 0 {
				d = max(b.MaxLock, b.Lock)
				break
			}
		}
		sp.Until, sp.Locks = now.Add(d), sp.Locks+1
		sp.Since = time.Time{}
	case b.Per > 0:
		sp.Until = sp.Since.Add(b.Per)
	default:
		sp.Held = true
	}
	return true
}

// purpose names what a budget counts; with the subject it keys the
// budget's state.
type purpose string

// Purposes of budgets. The first group counts per account, the second
// per client certificate.
const (
	budgetVerify     purpose = "verify"      // wrong verification codes
	budgetReset      purpose = "reset"       // wrong reset codes
	budgetEmail      purpose = "email"       // wrong e-mail change codes
	budgetLogin      purpose = "login"       // wrong passwords at login and password change
	budgetCancel     purpose = "cancel"      // wrong passwords at cancellation
	budgetSendResend purpose = "send.resend" // confirmation e-mails sent again
	budgetSendReset  purpose = "send.reset"
	budgetSendEmail  purpose = "send.email_change"
	budgetSendSMS    purpose = "send.sms"
	budgetClient     purpose = "client" // failed guesses of one client certificate
	budgetBind       purpose = "client.bind"
)

// Limits are the budgets a Server enforces.
type Limits struct {
	Verify, Reset, Email Budget // wrong codes, per account
	Login                Budget // wrong passwords at login and password change, per account
	Cancel               Budget // wrong passwords at cancellation, per account
	Sends                Budget // e-mails and SMS of one kind, per account
	ClientGuesses        Budget // failed guesses of any kind, per client certificate
	BindGuesses          Budget // unknown binding codes, per client certificate
}

// MaxBindGuesses is how many unknown binding codes one client (kiosk or
// phone certificate) may send per minute; more are 429 too_many_tries.
const MaxBindGuesses = 10

// DefaultLimits are the API's limits (upstream's constants and
// docs/upstream.md).
func DefaultLimits() Limits {
	code := Budget{Max: upstream.MaxTries, Lock: upstream.LockDuration, MaxLock: upstream.MaxLockDuration}
	return Limits{
		Verify: code, Reset: code, Email: code,
		Login:         Budget{Max: upstream.MaxPasswordFails},
		Cancel:        Budget{Max: upstream.MaxCancelTries, Lock: upstream.LockDuration, MaxLock: upstream.MaxLockDuration},
		Sends:         Budget{Max: upstream.MaxSendsPerHour, Per: time.Hour},
		ClientGuesses: Budget{Max: upstream.ClientGuessMax, Per: upstream.ClientGuessWindow},
		BindGuesses:   Budget{Max: MaxBindGuesses, Per: time.Minute},
	}
}

func (l Limits) of(p purpose) Budget {
	switch p {
	case budgetVerify:
		return l.Verify
	case budgetReset:
		return l.Reset
	case budgetEmail:
		return l.Email
	case budgetLogin:
		return l.Login
	case budgetCancel:
		return l.Cancel
	case budgetClient:
		return l.ClientGuesses
	case budgetBind:
		return l.BindGuesses
	}
	return l.Sends
}

func budgetKey(p purpose, subject []byte) []byte {
	return append([]byte(p+"\x00"), subject...)
}

// getBudget reads the state of p for subject (zero if none).
func (s *store) getBudget(tx *bolt.Tx, p purpose, subject []byte) spent {
	var sp spent
	if v := tx.Bucket(bucketBudgets).Get(budgetKey(p, subject)); v != nil {
		_ = json.Unmarshal(v, &sp) // a damaged state counts from zero
	}
	return sp
}

func (s *store) putBudget(tx *bolt.Tx, p purpose, subject []byte, sp spent) error {
	v, err := json.Marshal(sp)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketBudgets).Put(budgetKey(p, subject), v)
}

// isLocked reads whether p is locked for subject now; the answer is the
// refusal to give, or nil.
func (s *Server) isLocked(tx *bolt.Tx, p purpose, subject []byte) *answer {
	if l, until := s.o.Limits.of(p).locked(s.st.getBudget(tx, p, subject), s.o.Now()); l {
		a := s.lockAnswer(p, until)
		return &a
	}
	return nil
}

// spend counts one attempt of p by subject and returns the refusal if the
// budget is locked after it (nil if not).
func (s *Server) spend(tx *bolt.Tx, p purpose, subject []byte) (*answer, error) {
	sp := s.st.getBudget(tx, p, subject)
	b := s.o.Limits.of(p)
	l := b.spend(&sp, s.o.Now())
	if err := s.st.putBudget(tx, p, subject, sp); err != nil {
		return nil, err
	}
	if !l {
		return nil, nil
	}
	_, until := b.locked(sp, s.o.Now())
	a := s.lockAnswer(p, until)
	return &a, nil
}

// resetBudget forgets p's attempts by subject after a success.
func (s *store) resetBudget(tx *bolt.Tx, p purpose, subject []byte) error {
	return tx.Bucket(bucketBudgets).Delete(budgetKey(p, subject))
}

// lockAnswer is the refusal of a locked budget: 423 account_locked for
// the login lock that only a password reset lifts, else 429
// too_many_tries with the time it ends (retry_at, Retry-After). A
// client's own limit is not stored for its Idempotency-Key: after the
// wait the same request is answered for real.
func (s *Server) lockAnswer(p purpose, until time.Time) answer {
	if until.IsZero() {
		return locked()
	}
	msg := map[purpose]string{
		budgetVerify: "too many wrong codes", budgetReset: "too many wrong codes", budgetEmail: "too many wrong codes",
		budgetCancel: "too many wrong passwords", budgetClient: "too many failed attempts from this kiosk",
		budgetBind: "too many wrong binding codes from this device",
	}[p]
	if msg == "" {
		msg = "too many e-mails or messages asked for"
	}
	u := until.UTC().Truncate(time.Second).Add(time.Second)
	a := answer{status: http.StatusTooManyRequests, body: upstream.ErrorBody{Error: &upstream.Error{
		Code: upstream.ErrCodeTooManyTries, Message: msg + "; try again after retry_at", RetryAt: &u}}}
	a.noStore = p == budgetClient || p == budgetBind
	return a
}
