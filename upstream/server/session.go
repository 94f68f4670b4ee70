package server

import (
	"encoding/hex"
	"net/http"
	"strings"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/rules"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// session is an authenticated request's session: its stored record and
// the keyed hash of its token (its storage key).
type session struct {
	sessionRec
	key []byte
}

func unauthorized() answer {
	return apiErr(http.StatusUnauthorized, upstream.ErrCodeUnauthorized, "log in again with the card and the registration password")
}

// session resolves the request's bearer token: it must exist, be within
// its lifetime and come from the kiosk (client certificate) that logged in.
func (s *Server) session(r *http.Request) (session, *answer) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	var sess session
	if !ok || tok == "" || len(tok) > 128 {
		a := unauthorized()
		return sess, &a
	}
	sess.key = s.st.mac("session", tok)
	var found bool
	err := s.st.db.View(func(tx *bolt.Tx) (err error) {
		found, err = s.st.getSealed(tx, bucketSess, sess.key, &sess.sessionRec)
		return err
	})
	if err != nil {
		a := apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		return sess, &a
	}
	if !found || !s.o.Now().Before(sess.Expires) || sess.Kiosk != kiosk(r) {
		a := unauthorized()
		return sess, &a
	}
	return sess, nil
}

// writeAuth is write for a logged-in session. The idempotency namespace
// is the path and the session, so one session cannot replay another's
// answers.
func (s *Server) writeAuth(path string, prep func(sess session, plain []byte) (writeFunc, *answer)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, a := s.session(r)
		if a != nil {
			writeAnswer(w, *a)
			return
		}
		scope := path + "\x00" + hex.EncodeToString(sess.key[:8])
		s.write(scope, func(plain []byte) (writeFunc, *answer) { return prep(sess, plain) })(w, r)
	}
}

// getAuth serves a GET for a logged-in session with the person's record.
func (s *Server) getAuth(fn func(w http.ResponseWriter, r *http.Request, sess session, rec record)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sess, a := s.session(r)
		if a != nil {
			writeAnswer(w, *a)
			return
		}
		var rec record
		var ok bool
		err := s.st.db.View(func(tx *bolt.Tx) (err error) {
			rec, ok, err = s.st.getPersonByKey(tx, sess.PersonKey)
			return err
		})
		switch {
		case err != nil:
			writeAnswer(w, apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error"))
		case !ok:
			writeAnswer(w, unauthorized())
		case rec.Locked:
			writeAnswer(w, locked())
		default:
			fn(w, r, sess, rec)
		}
	}
}

func locked() answer {
	return apiErr(http.StatusLocked, upstream.ErrCodeAccountLocked, "the account is locked after 5 wrong passwords; use forgot password to set a new one")
}

// authed decodes and checks a session's request and runs fn on the
// person's record inside the transaction.
func authed[T any](s *Server, sess session, plain []byte, check func(T) []upstream.FieldError,
	fn func(tx *bolt.Tx, req T, rec *record) answer) (writeFunc, *answer) {
	var req T
	if a := decode(plain, &req); a != nil {
		return nil, a
	}
	if f := check(req); len(f) > 0 {
		a := invalid(f)
		return nil, &a
	}
	return func(tx *bolt.Tx, _ []byte) answer {
		rec, ok, err := s.st.getPersonByKey(tx, sess.PersonKey)
		switch {
		case err != nil:
			return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		case !ok:
			return unauthorized()
		case rec.Locked:
			return locked()
		}
		return fn(tx, req, &rec)
	}, nil
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	k := kiosk(r)
	s.write(upstream.PathSessions, func(plain []byte) (writeFunc, *answer) { return s.prepLogin(plain, k) })(w, r)
}

func (s *Server) prepLogin(plain []byte, kioskName string) (writeFunc, *answer) {
	return person(s, plain, func(v upstream.Login) (string, string) { return v.CardNumber, v.IDNumber },
		func(v upstream.Login) []upstream.FieldError {
			if v.Password == "" {
				return []upstream.FieldError{{Field: "password", Code: rules.CodeRequired, Message: "the registration password is required"}}
			}
			return nil
		},
		func(tx *bolt.Tx, v upstream.Login, rec *record) answer {
			switch {
			case rec.Status != upstream.StatusActive:
				return apiErr(http.StatusConflict, upstream.ErrCodeNotActive, "the registration is not confirmed yet")
			case rec.Locked:
				return locked()
			}
			if a, ok := s.checkPassword(tx, rec, v.Password); !ok {
				return a
			}
			tok := randomHex(32)
			exp := s.o.Now().Add(upstream.SessionLifetime)
			sr := sessionRec{PersonKey: s.st.personKey(v.CardNumber, v.IDNumber), Kiosk: kioskName, Expires: exp}
			if err := s.st.putSealed(tx, bucketSess, s.st.mac("session", tok), sr); err != nil {
				return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
			}
			return s.save(tx, rec, answer{http.StatusCreated, upstream.Session{Token: tok, ExpiresAt: exp}})
		})
}

// checkPassword compares password with the record's; a wrong one is
// counted, and the MaxPasswordFails-th in a row locks the account (saved
// either way). A right one resets the count (saved by the caller).
func (s *Server) checkPassword(tx *bolt.Tx, rec *record, password string) (answer, bool) {
	if bcrypt.CompareHashAndPassword(rec.PasswordHash, []byte(password)) == nil {
		rec.PasswordFails = 0
		return answer{}, true
	}
	rec.PasswordFails++
	if rec.PasswordFails >= upstream.MaxPasswordFails {
		rec.Locked, rec.PasswordFails = true, 0
		s.o.Logger.Warn("account locked", "reason", "wrong_passwords")
		return s.save(tx, rec, locked()), false
	}
	return s.save(tx, rec, apiErr(http.StatusForbidden, upstream.ErrCodeWrongPassword, "the registration password is wrong")), false
}

func (s *Server) prepLogout(sess session, plain []byte) (writeFunc, *answer) {
	var v struct{}
	if a := decode(plain, &v); a != nil {
		return nil, a
	}
	return func(tx *bolt.Tx, _ []byte) answer {
		if err := tx.Bucket(bucketSess).Delete(sess.key); err != nil {
			return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		}
		return answer{http.StatusOK, upstream.StatusReply{Status: upstream.StatusEnded}}
	}, nil
}
