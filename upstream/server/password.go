package server

import (
	"crypto/subtle"
	"net/http"
	"time"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// compareWait bounds the wait for a compare slot (Options.Compares);
// after it the answer is 503 and nothing is counted.
const compareWait = 10 * time.Second

// pwCheck is a password, given to prove who one is, checked outside any
// write transaction: bcrypt inside one held every other write back
// (issue 13: eight clients sending wrong passwords slowed an unrelated
// write from 2 ms to 1.2 s).
type pwCheck struct {
	right bool
	hash  []byte // the hash compared with; nil for an unknown account
	// lockNow is the refusal to give if the password is wrong: this
	// attempt used up the budget.
	lockNow *answer
}

// checkPassword reserves one attempt of budget p for subject, then
// compares password with the hash hashOf reads, outside the transaction.
// The attempt is spent before the compare, so concurrent guesses cannot
// overrun the budget; settle refunds it when the password was right. An
// unknown account (hashOf gives nil) is compared with a dummy hash of
// the same cost, so its refusal takes as long as a known one's and says
// the same (issue 13: 2.6 ms against 64–136 ms told a stranger whether
// an ID was registered). The answer, if not nil, is the refusal to give
// at once: the client or the budget is locked already.
func (s *Server) checkPassword(c client, p purpose, subject []byte, password string,
	hashOf func(tx *bolt.Tx) ([]byte, error)) (pwCheck, *answer) {
	var pc pwCheck
	var refusal *answer
	// A locked budget refuses in a read transaction, which costs the
	// other writers nothing; the attempt is then reserved in a write one,
	// which checks again.
	s.st.db.View(func(tx *bolt.Tx) error {
		if refusal = s.isLocked(tx, budgetClient, c.key); refusal == nil {
			if refusal = s.isLocked(tx, p, subject); refusal != nil {
				// Knocking at a locked account is a failed guess of the
				// client too, so it cannot go on writing answers for ever.
				refusal.effect = s.spendClient(c)
			}
		}
		return nil
	})
	if refusal != nil {
		return pc, refusal
	}
	// Wait for a compare slot before the attempt is reserved, so a busy
	// server costs nobody an attempt.
	select {
	case s.compares <- struct{}{}:
		defer func() { <-s.compares }()
	case <-time.After(compareWait):
		a := apiErr(http.StatusServiceUnavailable, upstream.ErrCodeUnavailable, "too busy checking passwords; try again")
		return pc, &a
	}
	err := s.st.db.Update(func(tx *bolt.Tx) error {
		if refusal = s.isLocked(tx, budgetClient, c.key); refusal != nil {
			return nil
		}
		if refusal = s.isLocked(tx, p, subject); refusal != nil {
			return nil
		}
		var err error
		if pc.hash, err = hashOf(tx); err != nil {
			return err
		}
		pc.lockNow, err = s.spend(tx, p, subject)
		return err
	})
	if err != nil {
		a := storageErr()
		return pc, &a
	}
	if refusal != nil {
		return pc, refusal
	}
	h := pc.hash
	if h == nil {
		h = s.dummyHash
	}
	pc.right = bcrypt.CompareHashAndPassword(h, []byte(password)) == nil && pc.hash != nil
	return pc, nil
}

// settle finishes a password check inside the write transaction: it
// reports whether the password was right for the record as it is now
// (a password changed in between makes it wrong) and refunds the
// attempt; a wrong one also counts against the client's budget, and the
// refusal (403 wrong_password, or the lock it caused) is returned.
func (s *Server) settle(tx *bolt.Tx, c client, p purpose, subject []byte, pc pwCheck, current []byte) (answer, bool) {
	if pc.right && subtle.ConstantTimeCompare(pc.hash, current) == 1 {
		if err := s.st.resetBudget(tx, p, subject); err != nil {
			return storageErr(), false
		}
		return answer{}, true
	}
	if _, err := s.spend(tx, budgetClient, c.key); err != nil {
		return storageErr(), false
	}
	if pc.lockNow != nil {
		s.o.Logger.Warn("password locked", "purpose", string(p))
		return *pc.lockNow, false
	}
	return apiErr(http.StatusForbidden, upstream.ErrCodeWrongPassword, "the registration password is wrong"), false
}

// hashByID reads the password hash of the account of id (nil if none).
func (s *Server) hashByID(id string) func(tx *bolt.Tx) ([]byte, error) {
	return func(tx *bolt.Tx) ([]byte, error) {
		rec, ok, err := s.st.getPerson(tx, id)
		if !ok || err != nil {
			return nil, err
		}
		return rec.PasswordHash, nil
	}
}

// prepCancel deletes a pending application (刪除註冊申請). The password
// is checked first, with its own budget (issue 13: 12 wrong, then the
// right one, was 200), at the same cost for an unknown ID, which is then
// 404 as resend answers it; only the person who knows the password
// learns that the application is already active (409 not_pending).
func (s *Server) prepCancel(c client, plain []byte) (writeFunc, *answer) {
	var v upstream.Cancellation
	if a := decode(plain, &v); a != nil {
		return nil, a
	}
	if f := append(upstream.ValidateIdentify(v.CardNumber, v.IDNumber), upstream.ValidatePassword("password", v.Password)...); len(f) > 0 {
		a := invalid(f)
		return nil, &a
	}
	if a := s.peekProof(c.r, upstream.PathCancel, plain); a != nil {
		return nil, a // before an attempt is spent
	}
	key := s.st.personKey(v.IDNumber)
	pc, early := s.checkPassword(c, budgetCancel, key, v.Password, s.hashByID(v.IDNumber))
	if early != nil {
		return nil, early
	}
	return func(tx *bolt.Tx, _ idemRef) answer {
		rec, ok, err := s.st.getPerson(tx, v.IDNumber)
		if err != nil {
			return storageErr()
		}
		a, right := s.settle(tx, c, budgetCancel, key, pc, rec.PasswordHash)
		switch {
		case !ok && a.status == http.StatusForbidden:
			// Unlike login, the delete flow must tell a person with no
			// application to register instead (docs/upstream.md, "Which
			// answers differ"); resend says as much. The compare was made
			// all the same, so the time tells nothing more.
			return apiErr(http.StatusNotFound, upstream.ErrCodeNotFound, "no application for this ID number")
		case !right:
			return a
		}
		if rec.Status != upstream.StatusPendingEmail {
			return apiErr(http.StatusConflict, upstream.ErrCodeNotPending, "only an application still waiting for its e-mail can be deleted")
		}
		if err := s.st.deletePerson(tx, v.IDNumber); err != nil {
			return storageErr()
		}
		return answer{status: http.StatusOK, body: upstream.StatusReply{Status: upstream.StatusCancelled}}
	}, nil
}

// spendClient counts a failed guess of the client (for answer.effect).
func (s *Server) spendClient(c client) func(tx *bolt.Tx) error {
	return func(tx *bolt.Tx) error {
		_, err := s.spend(tx, budgetClient, c.key)
		return err
	}
}
