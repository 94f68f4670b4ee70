package server

import (
	"net/http"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

func (s *Server) getAccount(w http.ResponseWriter, _ *http.Request, _ session, rec record) {
	writeAnswer(w, answer{status: http.StatusOK, body: upstream.Account{Reference: rec.Reference, Contact: rec.Reg.Contact, PendingEmail: rec.PendingEmail}})
}

// prepContact changes the contact data (帳號資料異動). Phone, mobile and
// backup e-mail change at once; a new primary e-mail waits for the code
// sent to it, and giving the current one again drops a pending change.
func (s *Server) prepContact(sess session, plain []byte) (writeFunc, *answer) {
	return authed(s, sess, plain, func(c upstream.Contact) []upstream.FieldError { return c.Validate("") },
		func(tx *bolt.Tx, c upstream.Contact, rec *record) answer {
			cur := &rec.Reg.Contact
			cur.Phone, cur.Mobile, cur.BackupEmail = c.Phone, c.Mobile, c.BackupEmail
			if c.Email == cur.Email {
				rec.PendingEmail, rec.EmailCode = "", codeState{}
				return s.save(tx, rec, answer{status: http.StatusOK, body: upstream.ContactChanged{Status: upstream.StatusChanged}})
			}
			rec.PendingEmail = c.Email
			if a := s.sendCode(tx, s.clientOf(sess), budgetSendEmail, &rec.EmailCode, rec, mailJob{Kind: "email_change", To: c.Email, Reference: rec.Reference}); a.status != 0 {
				return a
			}
			return s.save(tx, rec, answer{status: http.StatusOK, body: upstream.ContactChanged{Status: upstream.StatusEmailPending}})
		})
}

func (s *Server) prepEmailConfirm(sess session, plain []byte) (writeFunc, *answer) {
	c := s.clientOf(sess)
	return authed(s, sess, plain, func(v upstream.EmailConfirm) []upstream.FieldError { return upstream.ValidateCode(v.Code) },
		func(tx *bolt.Tx, v upstream.EmailConfirm, rec *record) answer {
			if rec.PendingEmail == "" {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotPending, "no e-mail change is waiting for a code")
			}
			if a, ok := s.checkCode(tx, c, budgetEmail, &rec.EmailCode, rec, v.Code); !ok {
				return a
			}
			rec.Reg.Contact.Email, rec.PendingEmail = rec.PendingEmail, ""
			if rec.Reg.Contact.BackupEmail == rec.Reg.Contact.Email {
				rec.Reg.Contact.BackupEmail = ""
			}
			return s.save(tx, rec, answer{status: http.StatusOK, body: upstream.StatusReply{Status: upstream.StatusEmailChanged}})
		})
}

// clientOf is the client of a session: the kiosk that logged in.
func (s *Server) clientOf(sess session) client {
	return client{name: sess.Kiosk, key: s.st.mac("client", sess.Kiosk)}
}

// prepPassword changes the registration password (註冊密碼變更). A wrong
// current password counts toward the login lock as at login; the check
// runs outside the write transaction (checkPassword). A change ends every
// session of the account, this one too (issue 13), and the answer carries
// a new session for the kiosk that made it.
func (s *Server) prepPassword(sess session, plain []byte) (writeFunc, *answer) {
	var v upstream.PasswordChange
	if a := decode(plain, &v); a != nil {
		return nil, a
	}
	if f := upstream.ValidatePasswordChange(v.CurrentPassword, v.NewPassword); len(f) > 0 {
		a := invalid(f)
		return nil, &a
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(v.NewPassword), s.o.PasswordCost)
	if err != nil {
		a := apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "hash password")
		return nil, &a
	}
	c := s.clientOf(sess)
	pc, early := s.checkPassword(c, budgetLogin, sess.PersonKey, v.CurrentPassword, func(tx *bolt.Tx) ([]byte, error) {
		rec, ok, err := s.st.getPersonByKey(tx, sess.PersonKey)
		if !ok || err != nil {
			return nil, err
		}
		return rec.PasswordHash, nil
	})
	if early != nil {
		return nil, early
	}
	return authed(s, sess, plain, none[upstream.PasswordChange],
		func(tx *bolt.Tx, v upstream.PasswordChange, rec *record) answer {
			if a, right := s.settle(tx, c, budgetLogin, sess.PersonKey, pc, rec.PasswordHash); !right {
				return a
			}
			rec.PasswordHash = hash
			rec.Epoch++
			ns := s.newSession(tx, sess.PersonKey, rec.Epoch, sess.Kiosk)
			if ns.status != http.StatusCreated {
				return ns
			}
			if err := tx.Bucket(bucketSess).Delete(sess.key); err != nil {
				return storageErr()
			}
			tok := ns.body.(upstream.Session)
			return s.save(tx, rec, answer{status: http.StatusOK, body: upstream.PasswordChanged{
				Status: upstream.StatusPasswordChanged, Token: tok.Token, ExpiresAt: tok.ExpiresAt}})
		})
}
