package server

import (
	"crypto/hmac"
	"crypto/rand"
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

func (s *Server) prepRegister(plain []byte) (writeFunc, *answer) {
	var reg upstream.Registration
	if a := decode(plain, &reg); a != nil {
		return nil, a
	}
	now := s.o.Now()
	f := reg.Validate(now)
	h := reg.Household
	if h.County != "" && h.Township != "" && h.Village != "" && !s.divs.Has(h.County, h.Township, h.Village) {
		f = append(f, upstream.FieldError{Field: "household.village", Code: upstream.FieldCodeUnknown, Message: "no such county, township and village; choose from the list"})
	}
	if len(f) > 0 {
		a := invalid(f)
		return nil, &a
	}
	if reg.TermsVersion != s.terms.Version {
		a := apiErr(http.StatusConflict, upstream.ErrCodeTermsChanged, "the terms have changed; show the current ones again")
		return nil, &a
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(reg.Password), s.o.PasswordCost)
	if err != nil {
		a := apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "hash password")
		return nil, &a
	}
	reg.Password, reg.CardAuth = "", ""
	return func(tx *bolt.Tx, _ []byte) answer {
		old, ok, err := s.st.getPerson(tx, reg.CardNumber, reg.IDNumber)
		switch {
		case err != nil:
			return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		case ok && old.Status == upstream.StatusActive:
			s.stats.conflicts.Add(1)
			return apiErr(http.StatusConflict, upstream.ErrCodeAlreadyRegistered, "this card is already registered; use forgot password if needed")
		case ok:
			s.stats.conflicts.Add(1)
			return apiErr(http.StatusConflict, upstream.ErrCodePendingExists, "an application is waiting for its e-mail confirmation; resend the e-mail or delete the application")
		}
		rec := record{ID: randomHex(16), Reference: reference(), Status: upstream.StatusPendingEmail,
			Reg: reg, PasswordHash: hash, Created: now}
		code := s.newCode(&rec.Code, rec.ID, now)
		if err := s.st.putPerson(tx, rec); err != nil {
			return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		}
		if err := s.st.queueMail(tx, mailJob{Kind: "confirm", To: reg.Contact.Email, Reference: rec.Reference, Code: code}); err != nil {
			return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		}
		s.stats.created.Add(1)
		return answer{http.StatusCreated, upstream.Registered{RegistrationID: rec.ID, Reference: rec.Reference, Status: rec.Status}}
	}, nil
}

// person decodes a request, validates it with check, and runs fn on the
// person's record inside the transaction (404 if there is none).
func person[T any](s *Server, plain []byte, ids func(T) (string, string), check func(T) []upstream.FieldError,
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
	return func(tx *bolt.Tx, _ []byte) answer {
		rec, ok, err := s.st.getPerson(tx, card, id)
		if err != nil {
			return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		}
		if !ok {
			return apiErr(http.StatusNotFound, upstream.ErrCodeNotFound, "no registration for this card")
		}
		return fn(tx, req, &rec)
	}, nil
}

func (s *Server) save(tx *bolt.Tx, rec *record, a answer) answer {
	if err := s.st.putPerson(tx, *rec); err != nil {
		return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
	}
	return a
}

func none[T any](T) []upstream.FieldError { return nil }

func (s *Server) prepVerify(plain []byte) (writeFunc, *answer) {
	return person(s, plain, func(v upstream.Verification) (string, string) { return v.CardNumber, v.IDNumber },
		func(v upstream.Verification) []upstream.FieldError { return upstream.ValidateCode(v.Code) },
		func(tx *bolt.Tx, v upstream.Verification, rec *record) answer {
			if rec.Status != upstream.StatusPendingEmail {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotPending, "this registration is already active")
			}
			if a, ok := s.checkCode(&rec.Code, rec.ID, v.Code); !ok {
				return s.save(tx, rec, a)
			}
			rec.Status = upstream.StatusActive
			return s.save(tx, rec, answer{http.StatusOK, upstream.StatusReply{Status: upstream.StatusActive}})
		})
}

func (s *Server) prepResend(plain []byte) (writeFunc, *answer) {
	return person(s, plain, func(v upstream.Identify) (string, string) { return v.CardNumber, v.IDNumber }, none,
		func(tx *bolt.Tx, _ upstream.Identify, rec *record) answer {
			if rec.Status != upstream.StatusPendingEmail {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotPending, "this registration is already active")
			}
			code := s.newCode(&rec.Code, rec.ID, s.o.Now())
			if err := s.st.queueMail(tx, mailJob{Kind: "resend", To: rec.Reg.Contact.Email, Reference: rec.Reference, Code: code}); err != nil {
				return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
			}
			return s.save(tx, rec, answer{http.StatusOK, upstream.StatusReply{Status: upstream.StatusCodeSent}})
		})
}

func (s *Server) prepCancel(plain []byte) (writeFunc, *answer) {
	return person(s, plain, func(v upstream.Cancellation) (string, string) { return v.CardNumber, v.IDNumber },
		func(v upstream.Cancellation) []upstream.FieldError {
			if v.Password == "" {
				return []upstream.FieldError{{Field: "password", Code: rules.CodeRequired, Message: "the registration password is required"}}
			}
			return nil
		},
		func(tx *bolt.Tx, v upstream.Cancellation, rec *record) answer {
			if rec.Status != upstream.StatusPendingEmail {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotPending, "only an application still waiting for its e-mail can be deleted")
			}
			if bcrypt.CompareHashAndPassword(rec.PasswordHash, []byte(v.Password)) != nil {
				return apiErr(http.StatusForbidden, upstream.ErrCodeWrongPassword, "the registration password is wrong")
			}
			if err := s.st.deletePerson(tx, v.CardNumber, v.IDNumber); err != nil {
				return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
			}
			return answer{http.StatusOK, upstream.StatusReply{Status: upstream.StatusCancelled}}
		})
}

func (s *Server) prepReset(plain []byte) (writeFunc, *answer) {
	return person(s, plain, func(v upstream.Identify) (string, string) { return v.CardNumber, v.IDNumber }, none,
		func(tx *bolt.Tx, _ upstream.Identify, rec *record) answer {
			if rec.Status != upstream.StatusActive {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotActive, "the registration is not confirmed yet; confirm it or resend the e-mail")
			}
			code := s.newCode(&rec.Reset, rec.ID, s.o.Now())
			if err := s.st.queueMail(tx, mailJob{Kind: "reset", To: rec.Reg.Contact.Email, Reference: rec.Reference, Code: code}); err != nil {
				return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
			}
			return s.save(tx, rec, answer{http.StatusOK, upstream.StatusReply{Status: upstream.StatusCodeSent}})
		})
}

func (s *Server) prepResetConfirm(plain []byte) (writeFunc, *answer) {
	var hash []byte
	wf, a := person(s, plain, func(v upstream.ResetConfirm) (string, string) { return v.CardNumber, v.IDNumber },
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
			if a, ok := s.checkCode(&rec.Reset, rec.ID, v.Code); !ok {
				return s.save(tx, rec, a)
			}
			// A reset is the way out of a lock (account_locked).
			rec.PasswordHash, rec.Locked, rec.PasswordFails = hash, false, 0
			return s.save(tx, rec, answer{http.StatusOK, upstream.StatusReply{Status: upstream.StatusPasswordChanged}})
		})
	if a == nil {
		var v upstream.ResetConfirm
		_ = decode(plain, &v)
		var err error
		if hash, err = bcrypt.GenerateFromPassword([]byte(v.NewPassword), s.o.PasswordCost); err != nil {
			a := apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "hash password")
			return nil, &a
		}
	}
	return wf, a
}

// newCode gives cs a fresh code (the old one dies) and returns it.
func (s *Server) newCode(cs *codeState, id string, now time.Time) string {
	n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
	code := fmt.Sprintf("%06d", n.Int64())
	cs.Hash = s.st.mac("code", id+"|"+code)
	cs.Expires = now.Add(upstream.CodeLifetime)
	cs.Tries = 0
	return code
}

// checkCode checks code against cs: locked 429, none 404, expired 410,
// wrong 422 (the fifth wrong one locks for 15 minutes: 429). On success
// the code is used up.
func (s *Server) checkCode(cs *codeState, id, code string) (answer, bool) {
	now := s.o.Now()
	switch {
	case now.Before(cs.LockedUntil):
		return apiErr(http.StatusTooManyRequests, upstream.ErrCodeTooManyTries, "too many wrong codes; try again in 15 minutes"), false
	case cs.Hash == nil:
		return apiErr(http.StatusNotFound, upstream.ErrCodeNotFound, "no code was sent; ask for a new one"), false
	case now.After(cs.Expires):
		return apiErr(http.StatusGone, upstream.ErrCodeExpired, "the code has expired; ask for a new e-mail"), false
	case !hmac.Equal(cs.Hash, s.st.mac("code", id+"|"+code)):
		cs.Tries++
		if cs.Tries >= upstream.MaxTries {
			cs.Tries, cs.LockedUntil = 0, now.Add(upstream.LockDuration)
			return apiErr(http.StatusTooManyRequests, upstream.ErrCodeTooManyTries, "too many wrong codes; try again in 15 minutes"), false
		}
		return apiErr(http.StatusUnprocessableEntity, upstream.ErrCodeWrongCode, "the code is wrong"), false
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
