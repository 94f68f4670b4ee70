package server

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/rules"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// client is the party calling: its certificate's common name ("-"
// without TLS) and the keyed hash its attempt budgets are stored under.
type client struct {
	name string
	key  []byte
	r    *http.Request // the request, for peekProof
}

// identified is write for an endpoint where guesses are possible: prep
// learns the client, whose failed guesses count against its own budget.
func (s *Server) identified(path string, prep func(c client, plain []byte) (writeFunc, *answer)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		name := kiosk(r)
		c := client{name: name, key: s.st.mac("client", name), r: r}
		// A client over its budget is refused in a read transaction, before
		// anything else: its refusals must cost the others nothing (a write
		// transaction commits, and syncs, even when it changed nothing).
		p := budgetClient
		if path == upstream.PathBind {
			p = budgetBind
		}
		if a := s.clientLocked(c, p); a != nil {
			writeAnswer(w, *a)
			return
		}
		s.write(path, func(plain []byte) (writeFunc, *answer) { return prep(c, plain) })(w, r)
	}
}

// clientLocked reads whether the client's budget p is used up.
func (s *Server) clientLocked(c client, p purpose) (a *answer) {
	s.st.db.View(func(tx *bolt.Tx) error {
		a = s.isLocked(tx, p, c.key)
		return nil
	})
	return a
}

// prepRegister takes a first-time application. A conflict (the ID has an
// account) counts as a failed guess of the client: registration would
// otherwise tell any number of IDs apart, registered or not.
func (s *Server) prepRegister(c client, plain []byte) (writeFunc, *answer) {
	var reg upstream.Registration
	if a := decode(plain, &reg); a != nil {
		return nil, a
	}
	now := s.o.Now()
	f := s.checkRegistration(&reg, now)
	if len(f) > 0 {
		a := invalid(f)
		return nil, &a
	}
	if reg.TermsVersion != s.terms.Version {
		a := apiErr(http.StatusConflict, upstream.ErrCodeTermsChanged, "the terms have changed; show the current ones again")
		return nil, &a
	}
	var hash []byte
	if !s.ownReplay(c.r, reg.IDNumber, plain) {
		// Not the replay of what created the registration: its card's
		// proof must hold (checked before the costly hash).
		if a := s.peekProof(c.r, upstream.PathRegistrations, plain); a != nil {
			return nil, a
		}
		var err error
		if hash, err = bcrypt.GenerateFromPassword([]byte(reg.Password), s.o.PasswordCost); err != nil {
			a := apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "hash password")
			return nil, &a
		}
	}
	reg.Password, reg.CardAuth = "", ""
	return func(tx *bolt.Tx, req idemRef) answer {
		old, ok, err := s.st.getPerson(tx, reg.IDNumber)
		switch {
		case err != nil:
			return storageErr()
		case ok && hmac.Equal(old.CreatedBy, req.key) && bytes.Equal(old.CreatedHash, req.sum):
			// Its own replay, after the stored answer was purged.
			s.stats.replayed.Add(1)
			return answer{status: http.StatusCreated, body: upstream.Registered{RegistrationID: old.ID, Reference: old.Reference, Status: upstream.StatusPendingEmail}}
		}
		if hash == nil { // taken for a replay, but the registration is gone
			return apiErr(http.StatusServiceUnavailable, upstream.ErrCodeUnavailable, "try again")
		}
		if a := s.checkProof(tx, req.r, upstream.PathRegistrations, req.plain); a != nil { // issue 24
			return *a
		}
		switch {
		case ok:
			// One account per ID number, whatever card number comes with it.
			s.stats.conflicts.Add(1)
			if err := s.spendClient(c)(tx); err != nil {
				return storageErr()
			}
			if old.Status == upstream.StatusActive {
				return apiErr(http.StatusConflict, upstream.ErrCodeAlreadyRegistered, "this ID number is already registered; use forgot password if needed")
			}
			return apiErr(http.StatusConflict, upstream.ErrCodePendingExists, "an application is waiting for its e-mail confirmation; resend the e-mail or delete the application")
		}
		rec := record{ID: randomHex(16), Reference: reference(), Status: upstream.StatusPendingEmail,
			Reg: reg, PasswordHash: hash, Created: now, CreatedBy: req.key, CreatedHash: req.sum}
		key := s.st.personKey(reg.IDNumber)
		for _, p := range []purpose{budgetVerify, budgetReset, budgetEmail, budgetLogin, budgetCancel} {
			// Guesses at an ID before it had an account do not burden it.
			if err := s.st.resetBudget(tx, p, key); err != nil {
				return storageErr()
			}
		}
		code := s.newCode(&rec.Code, rec.ID, now)
		if err := s.st.putPerson(tx, rec); err != nil {
			return storageErr()
		}
		if err := s.queue(tx, mailJob{Kind: "confirm", To: reg.Contact.Email, Reference: rec.Reference, Code: code}); err != nil {
			return storageErr()
		}
		s.stats.created.Add(1)
		return answer{status: http.StatusCreated, body: upstream.Registered{RegistrationID: rec.ID, Reference: rec.Reference, Status: rec.Status}}
	}, nil
}

// checkRegistration applies every rule and the address check to reg
// (whose names from an older kiosk become codes first).
func (s *Server) checkRegistration(reg *upstream.Registration, now time.Time) []upstream.FieldError {
	s.resolveNames(&reg.Household)
	return append(reg.Validate(now), s.checkAddress(reg.Household)...)
}

// ownReplay reports whether the registration of ID number id was
// created by this very request (its Idempotency-Key and body): its replay
// then needs neither a card's proof (used by the first time) nor a hash.
func (s *Server) ownReplay(r *http.Request, id string, plain []byte) bool {
	if r == nil {
		return false
	}
	key := s.st.mac("idem", upstream.PathRegistrations+"\x00"+r.Header.Get(upstream.HeaderIdemKey))
	sum := sha256.Sum256(bytes.TrimRight(plain, " \t\r\n"))
	var yes bool
	s.st.db.View(func(tx *bolt.Tx) error {
		rec, ok, err := s.st.getPerson(tx, id)
		yes = err == nil && ok && hmac.Equal(rec.CreatedBy, key) && bytes.Equal(rec.CreatedHash, sum[:])
		return nil
	})
	return yes
}

func storageErr() answer {
	return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
}

// queue adds a mail job due now (see store.queueMail).
func (s *Server) queue(tx *bolt.Tx, job mailJob) error {
	return s.st.queueMail(tx, job, s.o.Now(), s.mailDomain)
}

// person decodes a request naming a person by card and ID number,
// validates it with check, and runs fn on the person's record inside the
// transaction. The ID number selects the account (one per ID); the card
// number is the one the kiosk read, recorded when the request proves the
// person (a replaced card, docs/upstream.md). A client over its guess
// budget is refused first; an unknown person is 404 and counts as a
// failed guess of the client.
func person[T any](s *Server, c client, plain []byte, ids func(T) (string, string), check func(T) []upstream.FieldError,
	fn func(tx *bolt.Tx, req T, rec *record) answer) (writeFunc, *answer) {
	var req T
	if a := decode(plain, &req); a != nil {
		return nil, a
	}
	card, id := ids(req)
	f := append(upstream.ValidateIdentify(card, id), check(req)...)
	if len(f) > 0 {
		a := invalid(f)
		return nil, &a
	}
	return func(tx *bolt.Tx, _ idemRef) answer {
		if a := s.isLocked(tx, budgetClient, c.key); a != nil {
			return *a
		}
		rec, ok, err := s.st.getPerson(tx, id)
		if err != nil {
			return storageErr()
		}
		if !ok {
			if _, err := s.spend(tx, budgetClient, c.key); err != nil {
				return storageErr()
			}
			return apiErr(http.StatusNotFound, upstream.ErrCodeNotFound, "no registration for this ID number")
		}
		return fn(tx, req, &rec)
	}, nil
}

func (s *Server) save(tx *bolt.Tx, rec *record, a answer) answer {
	if err := s.st.putPerson(tx, *rec); err != nil {
		return storageErr()
	}
	return a
}

func none[T any](T) []upstream.FieldError { return nil }

func (s *Server) prepVerify(c client, plain []byte) (writeFunc, *answer) {
	return person(s, c, plain, func(v upstream.Verification) (string, string) { return v.CardNumber, v.IDNumber },
		func(v upstream.Verification) []upstream.FieldError { return upstream.ValidateCode(v.Code) },
		func(tx *bolt.Tx, v upstream.Verification, rec *record) answer {
			if rec.Status != upstream.StatusPendingEmail {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotPending, "this registration is already active")
			}
			if a, ok := s.checkCode(tx, c, budgetVerify, &rec.Code, rec, v.Code); !ok {
				return a
			}
			rec.Status, rec.Reg.CardNumber = upstream.StatusActive, v.CardNumber
			return s.save(tx, rec, answer{status: http.StatusOK, body: upstream.StatusReply{Status: upstream.StatusActive}})
		})
}

// sendCode gives cs a fresh code and queues the message carrying it,
// within the account's budget of such messages per hour (p); asking
// beyond it also counts as a failed attempt of the client.
func (s *Server) sendCode(tx *bolt.Tx, c client, p purpose, cs *codeState, rec *record, job mailJob) answer {
	key := s.st.personKey(rec.Reg.IDNumber)
	if a := s.isLocked(tx, p, key); a != nil {
		if err := s.spendClient(c)(tx); err != nil {
			return storageErr()
		}
		return *a
	}
	if _, err := s.spend(tx, p, key); err != nil {
		return storageErr()
	}
	job.Code = s.newCode(cs, rec.ID, s.o.Now())
	if err := s.queue(tx, job); err != nil {
		return storageErr()
	}
	return answer{}
}

func (s *Server) prepResend(c client, plain []byte) (writeFunc, *answer) {
	return person(s, c, plain, func(v upstream.Identify) (string, string) { return v.CardNumber, v.IDNumber }, none,
		func(tx *bolt.Tx, _ upstream.Identify, rec *record) answer {
			if rec.Status != upstream.StatusPendingEmail {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotPending, "this registration is already active")
			}
			if a := s.sendCode(tx, c, budgetSendResend, &rec.Code, rec, mailJob{Kind: "resend", To: rec.Reg.Contact.Email, Reference: rec.Reference}); a.status != 0 {
				return a
			}
			return s.save(tx, rec, answer{status: http.StatusOK, body: upstream.StatusReply{Status: upstream.StatusCodeSent}})
		})
}

func (s *Server) prepReset(c client, plain []byte) (writeFunc, *answer) {
	return person(s, c, plain, func(v upstream.Identify) (string, string) { return v.CardNumber, v.IDNumber }, none,
		func(tx *bolt.Tx, _ upstream.Identify, rec *record) answer {
			if rec.Status != upstream.StatusActive {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotActive, "the registration is not confirmed yet; confirm it or resend the e-mail")
			}
			if a := s.sendCode(tx, c, budgetSendReset, &rec.Reset, rec, mailJob{Kind: "reset", To: rec.Reg.Contact.Email, Reference: rec.Reference}); a.status != 0 {
				return a
			}
			return s.save(tx, rec, answer{status: http.StatusOK, body: upstream.StatusReply{Status: upstream.StatusCodeSent}})
		})
}

func (s *Server) prepResetConfirm(c client, plain []byte) (writeFunc, *answer) {
	var hash []byte // set below, before the transaction runs
	wf, a := person(s, c, plain, func(v upstream.ResetConfirm) (string, string) { return v.CardNumber, v.IDNumber },
		func(v upstream.ResetConfirm) []upstream.FieldError {
			f := upstream.ValidateCode(v.Code)
			if err := rules.Password(v.NewPassword); err != nil {
				re := err.(*rules.Error)
				f = append(f, upstream.FieldError{Field: "new_password", Code: re.Code, Message: re.Reason})
			}
			return f
		},
		func(tx *bolt.Tx, v upstream.ResetConfirm, rec *record) answer {
			if rec.Status != upstream.StatusActive {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotActive, "the registration is not confirmed yet")
			}
			if a, ok := s.checkCode(tx, c, budgetReset, &rec.Reset, rec, v.Code); !ok {
				return a
			}
			// A reset is the way out of the login lock (account_locked), and
			// ends every session of the account (issue 13).
			if err := s.st.resetBudget(tx, budgetLogin, s.st.personKey(rec.Reg.IDNumber)); err != nil {
				return storageErr()
			}
			rec.PasswordHash, rec.Reg.CardNumber = hash, v.CardNumber
			rec.Epoch++
			return s.save(tx, rec, answer{status: http.StatusOK, body: upstream.StatusReply{Status: upstream.StatusPasswordChanged}})
		})
	if a != nil {
		return nil, a
	}
	if a := s.peekProof(c.r, upstream.PathResetConfirm, plain); a != nil {
		return nil, a // before the hash
	}
	var v upstream.ResetConfirm
	_ = decode(plain, &v)
	var err error
	if hash, err = bcrypt.GenerateFromPassword([]byte(v.NewPassword), s.o.PasswordCost); err != nil {
		a := apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "hash password")
		return nil, &a
	}
	return wf, nil
}

// newCode gives cs a fresh code (the old one dies) and returns it. The
// wrong tries made at the old code stay counted in the account's budget.
func (s *Server) newCode(cs *codeState, id string, now time.Time) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	code := fmt.Sprintf("%06d", n.Int64())
	cs.Hash = s.st.mac("code", id+"|"+code)
	cs.Expires = now.Add(upstream.CodeLifetime)
	return code
}

// checkCode checks code against cs within the account's budget p:
// locked 429 (with retry_at), none 404, expired 410, wrong 422 (the
// MaxTries-th wrong one, counted across new codes, locks: 429). A wrong
// code also counts against the client's budget. On success the code is
// used up and the budget reset; the record is then the caller's to save.
func (s *Server) checkCode(tx *bolt.Tx, c client, p purpose, cs *codeState, rec *record, code string) (answer, bool) {
	key := s.st.personKey(rec.Reg.IDNumber)
	if a := s.isLocked(tx, p, key); a != nil {
		if err := s.spendClient(c)(tx); err != nil {
			return storageErr(), false
		}
		return *a, false
	}
	now := s.o.Now()
	switch {
	case cs.Hash == nil:
		return apiErr(http.StatusNotFound, upstream.ErrCodeNotFound, "no code was sent; ask for a new one"), false
	case now.After(cs.Expires):
		return apiErr(http.StatusGone, upstream.ErrCodeExpired, "the code has expired; ask for a new e-mail"), false
	case !hmac.Equal(cs.Hash, s.st.mac("code", rec.ID+"|"+code)):
		lock, err := s.spend(tx, p, key)
		if err == nil {
			_, err = s.spend(tx, budgetClient, c.key)
		}
		switch {
		case err != nil:
			return storageErr(), false
		case lock != nil:
			s.o.Logger.Warn("code locked", "purpose", string(p))
			return *lock, false
		}
		return apiErr(http.StatusUnprocessableEntity, upstream.ErrCodeWrongCode, "the code is wrong"), false
	}
	if err := s.st.resetBudget(tx, p, key); err != nil {
		return storageErr(), false
	}
	*cs = codeState{}
	return answer{}, true
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// reference is the person-facing application number: "R" and 10 digits.
func reference() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(10_000_000_000))
	return fmt.Sprintf("R%010d", n.Int64())
}

func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!doctype html><meta charset="utf-8"><title>nhisim</title>
<p>請回到服務機，插入健保卡並輸入電子郵件中的驗證碼以完成認證。</p>
<p>Go back to the kiosk, insert your NHI card and enter the code from the e-mail to finish.</p>`)
}
