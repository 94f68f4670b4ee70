package server

import (
	"net/http"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

func (s *Server) getAccount(w http.ResponseWriter, _ *http.Request, _ session, rec record) {
	writeAnswer(w, answer{http.StatusOK, upstream.Account{Reference: rec.Reference, Contact: rec.Reg.Contact, PendingEmail: rec.PendingEmail}})
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
				return s.save(tx, rec, answer{http.StatusOK, upstream.ContactChanged{Status: upstream.StatusChanged}})
			}
			rec.PendingEmail = c.Email
			code := s.newCode(&rec.EmailCode, rec.ID, s.o.Now())
			if err := s.st.queueMail(tx, mailJob{Kind: "email_change", To: c.Email, Reference: rec.Reference, Code: code}); err != nil {
				return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
			}
			return s.save(tx, rec, answer{http.StatusOK, upstream.ContactChanged{Status: upstream.StatusEmailPending}})
		})
}

func (s *Server) prepEmailConfirm(sess session, plain []byte) (writeFunc, *answer) {
	return authed(s, sess, plain, func(v upstream.EmailConfirm) []upstream.FieldError { return upstream.ValidateCode(v.Code) },
		func(tx *bolt.Tx, v upstream.EmailConfirm, rec *record) answer {
			if rec.PendingEmail == "" {
				return apiErr(http.StatusConflict, upstream.ErrCodeNotPending, "no e-mail change is waiting for a code")
			}
			if a, ok := s.checkCode(&rec.EmailCode, rec.ID, v.Code); !ok {
				return s.save(tx, rec, a)
			}
			rec.Reg.Contact.Email, rec.PendingEmail = rec.PendingEmail, ""
			if rec.Reg.Contact.BackupEmail == rec.Reg.Contact.Email {
				rec.Reg.Contact.BackupEmail = ""
			}
			return s.save(tx, rec, answer{http.StatusOK, upstream.StatusReply{Status: upstream.StatusEmailChanged}})
		})
}

// prepPassword changes the registration password (註冊密碼變更); a wrong
// current password counts toward the lock as at login.
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
	return authed(s, sess, plain, none[upstream.PasswordChange],
		func(tx *bolt.Tx, v upstream.PasswordChange, rec *record) answer {
			if a, ok := s.checkPassword(tx, rec, v.CurrentPassword); !ok {
				return a
			}
			rec.PasswordHash = hash
			return s.save(tx, rec, answer{http.StatusOK, upstream.StatusReply{Status: upstream.StatusPasswordChanged}})
		})
}
