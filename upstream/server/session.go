package server

import (
	"encoding/hex"
	"net/http"
	"strings"

	bolt "go.etcd.io/bbolt"

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
// its lifetime, come from the kiosk (client certificate) that logged in,
// and be of the account's current epoch: a password reset or change ends
// every session from before (issue 13).
func (s *Server) session(r *http.Request) (session, *answer) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	var sess session
	if !ok || tok == "" || len(tok) > 128 {
		a := unauthorized()
		return sess, &a
	}
	sess.key = s.st.mac("session", tok)
	var found, current bool
	err := s.st.db.View(func(tx *bolt.Tx) (err error) {
		if found, err = s.st.getSealed(tx, bucketSess, sess.key, &sess.sessionRec); !found || err != nil {
			return err
		}
		rec, ok, err := s.st.getPersonByKey(tx, sess.PersonKey)
		current = ok && rec.Epoch == sess.Epoch
		return err
	})
	if err != nil {
		a := storageErr()
		return sess, &a
	}
	if !found || !current || !s.o.Now().Before(sess.Expires) || sess.Kiosk != kiosk(r) {
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
		var ok, isLocked bool
		err := s.st.db.View(func(tx *bolt.Tx) (err error) {
			rec, ok, err = s.st.getPersonByKey(tx, sess.PersonKey)
			isLocked = s.accountLocked(tx, sess.PersonKey)
			return err
		})
		switch {
		case err != nil:
			writeAnswer(w, storageErr())
		case !ok:
			writeAnswer(w, unauthorized())
		case isLocked:
			writeAnswer(w, locked())
		default:
			fn(w, r, sess, rec)
		}
	}
}

func locked() answer {
	return apiErr(http.StatusLocked, upstream.ErrCodeAccountLocked, "the account is locked after 5 wrong passwords; use forgot password to set a new one")
}

// accountLocked reports whether the account's login budget is locked
// (only a password reset lifts it); its open sessions are then refused.
func (s *Server) accountLocked(tx *bolt.Tx, key []byte) bool {
	l, _ := s.o.Limits.Login.locked(s.st.getBudget(tx, budgetLogin, key), s.o.Now())
	return l
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
	return func(tx *bolt.Tx, _ idemRef) answer {
		rec, ok, err := s.st.getPersonByKey(tx, sess.PersonKey)
		switch {
		case err != nil:
			return storageErr()
		case !ok || rec.Epoch != sess.Epoch:
			return unauthorized()
		case s.accountLocked(tx, sess.PersonKey):
			return locked()
		}
		return fn(tx, req, &rec)
	}, nil
}

// prepLogin opens a session. The password is checked before anything
// else is said, outside the write transaction (checkPassword): an
// unknown ID answers 403 wrong_password at the same cost as a known one;
// the MaxPasswordFails-th wrong password in a row locks the account (423)
// until a password reset; only with the right password does a pending
// account learn it is not active yet (409).
func (s *Server) prepLogin(c client, plain []byte) (writeFunc, *answer) {
	var v upstream.Login
	if a := decode(plain, &v); a != nil {
		return nil, a
	}
	if f := append(upstream.ValidateIdentify(v.CardNumber, v.IDNumber), upstream.ValidatePassword("password", v.Password)...); len(f) > 0 {
		a := invalid(f)
		return nil, &a
	}
	if a := s.peekProof(c.r, upstream.PathSessions, plain); a != nil {
		return nil, a // before an attempt is spent
	}
	key := s.st.personKey(v.IDNumber)
	pc, early := s.checkPassword(c, budgetLogin, key, v.Password, s.hashByID(v.IDNumber))
	if early != nil {
		return nil, early
	}
	return func(tx *bolt.Tx, _ idemRef) answer {
		rec, ok, err := s.st.getPerson(tx, v.IDNumber)
		if err != nil {
			return storageErr()
		}
		if a, right := s.settle(tx, c, budgetLogin, key, pc, rec.PasswordHash); !right || !ok {
			return a
		}
		if rec.Status != upstream.StatusActive {
			return apiErr(http.StatusConflict, upstream.ErrCodeNotActive, "the registration is not confirmed yet")
		}
		rec.Reg.CardNumber = v.CardNumber
		a := s.newSession(tx, key, rec.Epoch, c.name)
		if a.status != http.StatusCreated {
			return a
		}
		return s.save(tx, &rec, a)
	}, nil
}

// newSession stores a session of the account key at epoch for the kiosk
// and answers 201 with its token.
func (s *Server) newSession(tx *bolt.Tx, key []byte, epoch int, kioskName string) answer {
	tok := randomHex(32)
	exp := s.o.Now().Add(upstream.SessionLifetime)
	sr := sessionRec{PersonKey: key, Kiosk: kioskName, Expires: exp, Epoch: epoch}
	if err := s.st.putSealed(tx, bucketSess, s.st.mac("session", tok), sr); err != nil {
		return storageErr()
	}
	return answer{status: http.StatusCreated, body: upstream.Session{Token: tok, ExpiresAt: exp}}
}

func (s *Server) prepLogout(sess session, plain []byte) (writeFunc, *answer) {
	var v struct{}
	if a := decode(plain, &v); a != nil {
		return nil, a
	}
	return func(tx *bolt.Tx, _ idemRef) answer {
		if err := tx.Bucket(bucketSess).Delete(sess.key); err != nil {
			return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		}
		return answer{status: http.StatusOK, body: upstream.StatusReply{Status: upstream.StatusEnded}}
	}, nil
}
