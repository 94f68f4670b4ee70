package server

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/nhikiosk/nhikiosk/rules"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// changed wakes every binding long-poll after a committed write.
func (s *Server) changed() {
	s.changedMu.Lock()
	close(s.changedCh)
	s.changedCh = make(chan struct{})
	s.changedMu.Unlock()
}

func (s *Server) changes() <-chan struct{} {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	return s.changedCh
}

// ParseWait reads the ?wait= of a binding long-poll: a Go duration
// ("25s", "1500ms") or whole seconds ("25"), from 0 to
// upstream.MaxBindingWait; empty is 0 (answer at once).
func ParseWait(q string) (time.Duration, error) {
	if q == "" {
		return 0, nil
	}
	if len(q) > 16 {
		return 0, fmt.Errorf("wait too long")
	}
	d, err := time.ParseDuration(q)
	if err != nil {
		n, nerr := strconv.Atoi(q)
		if nerr != nil {
			return 0, fmt.Errorf("wait is a duration such as 25s: %w", err)
		}
		d = time.Duration(n) * time.Second
	}
	if d < 0 || d > upstream.MaxBindingWait {
		return 0, fmt.Errorf("wait is between 0 and %s", upstream.MaxBindingWait)
	}
	return d, nil
}

// maskMobile keeps the last 3 digits of a mobile number: "*******678".
func maskMobile(m string) string {
	if len(m) <= 3 {
		return strings.Repeat("*", len(m))
	}
	return strings.Repeat("*", len(m)-3) + m[len(m)-3:]
}

// prepBindingStart starts a binding (行動裝置認證): an 8-digit one-time
// code valid upstream.BindCodeLifetime, shown by the kiosk or, via SMS,
// sent to the registered mobile (nhisim logs it; it cannot send SMS).
func (s *Server) prepBindingStart(sess session, plain []byte) (writeFunc, *answer) {
	return authed(s, sess, plain, func(v upstream.BindingStart) []upstream.FieldError {
		if v.Via != upstream.ViaScreen && v.Via != upstream.ViaSMS {
			return []upstream.FieldError{{Field: "via", Code: "format", Message: "via is screen or sms"}}
		}
		return nil
	}, func(tx *bolt.Tx, v upstream.BindingStart, rec *record) answer {
		now := s.o.Now()
		var code string
		for {
			n, _ := rand.Int(rand.Reader, big.NewInt(100_000_000))
			code = fmt.Sprintf("%08d", n.Int64())
			if tx.Bucket(bucketCodes).Get(s.st.mac("bind", code)) == nil {
				break
			}
		}
		b := bindingRec{ID: randomHex(12), PersonKey: sess.PersonKey, Expires: now.Add(upstream.BindCodeLifetime),
			CodeKey: s.st.mac("bind", code)}
		if err := s.st.putSealed(tx, bucketBind, []byte(b.ID), b); err != nil {
			return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		}
		if err := tx.Bucket(bucketCodes).Put(s.st.mac("bind", code), []byte(b.ID)); err != nil {
			return apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		}
		out := upstream.Binding{BindingID: b.ID, Code: code, ExpiresAt: b.Expires, Via: v.Via}
		if v.Via == upstream.ViaSMS {
			if a := s.isLocked(tx, budgetSendSMS, sess.PersonKey); a != nil {
				if err := s.spendClient(s.clientOf(sess))(tx); err != nil {
					return storageErr()
				}
				return *a
			}
			if _, err := s.spend(tx, budgetSendSMS, sess.PersonKey); err != nil {
				return storageErr()
			}
			if err := s.queue(tx, mailJob{Kind: "sms", To: rec.Reg.Contact.Mobile, Reference: rec.Reference, Code: code}); err != nil {
				return storageErr()
			}
			out.Code, out.SentTo = "", maskMobile(rec.Reg.Contact.Mobile)
		}
		return answer{status: http.StatusCreated, body: out}
	})
}

// prepBind is the phone's side: the code links the device to the
// binding's account, once, before it expires. Unknown codes count
// against the client's own budget of binding guesses (BindGuesses).
func (s *Server) prepBind(c client, plain []byte) (writeFunc, *answer) {
	var v upstream.Bind
	if a := decode(plain, &v); a != nil {
		return nil, a
	}
	if f := upstream.ValidateBind(v.Code, v.DeviceName); len(f) > 0 {
		a := invalid(f)
		return nil, &a
	}
	return func(tx *bolt.Tx, _ idemRef) answer {
		if a := s.isLocked(tx, budgetBind, c.key); a != nil {
			return *a
		}
		id := tx.Bucket(bucketCodes).Get(s.st.mac("bind", v.Code))
		var b bindingRec
		ok, err := false, error(nil)
		if id != nil {
			ok, err = s.st.getSealed(tx, bucketBind, id, &b)
		}
		now := s.o.Now()
		switch {
		case err != nil:
			return storageErr()
		case !ok:
			if _, err := s.spend(tx, budgetBind, c.key); err != nil {
				return storageErr()
			}
			return apiErr(http.StatusUnprocessableEntity, upstream.ErrCodeWrongCode, "no binding has this code")
		case b.Used:
			return apiErr(http.StatusConflict, upstream.ErrCodeCodeUsed, "this code has already linked a device; start a new binding")
		case !now.Before(b.Expires):
			return apiErr(http.StatusGone, upstream.ErrCodeExpired, "the code has expired; start a new binding at the kiosk")
		}
		rec, ok, err := s.st.getPersonByKey(tx, b.PersonKey)
		if err != nil || !ok {
			return apiErr(http.StatusGone, upstream.ErrCodeExpired, "the account of this code is gone")
		}
		d := deviceRec{ID: randomHex(8), Name: v.DeviceName, LinkedAt: now, LastUsed: now}
		rec.Devices = append(rec.Devices, d)
		b.Used, b.Device = true, d
		if err := s.st.putSealed(tx, bucketBind, id, b); err != nil {
			return storageErr()
		}
		s.o.Logger.Info("device linked")
		return s.save(tx, &rec, answer{status: http.StatusOK, body: d.api()})
	}, nil
}

func (d deviceRec) api() upstream.Device {
	return upstream.Device{DeviceID: d.ID, Name: d.Name, LinkedAt: d.LinkedAt, LastUsed: d.LastUsed}
}

// getBindingStatus answers where a binding of the session's account
// stands, holding the answer up to ?wait= while it is waiting.
func (s *Server) getBindingStatus(w http.ResponseWriter, r *http.Request, sess session, _ record) {
	wait, err := ParseWait(r.URL.Query().Get("wait"))
	if err != nil {
		writeAnswer(w, apiErr(http.StatusBadRequest, upstream.ErrCodeBadRequest, "wait is a duration from 0 to 30s, such as 25s"))
		return
	}
	id := r.URL.Query().Get("binding_id")
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		ch := s.changes()
		st, a := s.bindingStatus(id, sess)
		if a != nil {
			writeAnswer(w, *a)
			return
		}
		if st.Status != upstream.StatusWaiting {
			writeAnswer(w, answer{status: http.StatusOK, body: st})
			return
		}
		select {
		case <-ch:
			continue
		case <-deadline.C:
		case <-r.Context().Done():
		}
		writeAnswer(w, answer{status: http.StatusOK, body: st})
		return
	}
}

func (s *Server) bindingStatus(id string, sess session) (upstream.BindingStatus, *answer) {
	var b bindingRec
	var ok bool
	err := s.st.db.View(func(tx *bolt.Tx) (err error) {
		if id != "" && len(id) <= 64 {
			ok, err = s.st.getSealed(tx, bucketBind, []byte(id), &b)
		}
		return err
	})
	if err != nil {
		a := apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error")
		return upstream.BindingStatus{}, &a
	}
	if !ok || string(b.PersonKey) != string(sess.PersonKey) {
		a := apiErr(http.StatusNotFound, upstream.ErrCodeNotFound, "no such binding on this account")
		return upstream.BindingStatus{}, &a
	}
	st := upstream.BindingStatus{Status: upstream.StatusWaiting, ExpiresAt: b.Expires}
	switch {
	case b.Used:
		d := b.Device.api()
		st.Status, st.Device = upstream.StatusLinked, &d
	case !s.o.Now().Before(b.Expires):
		st.Status = upstream.StatusExpired
	}
	return st, nil
}

func (s *Server) getDevices(w http.ResponseWriter, _ *http.Request, _ session, rec record) {
	l := upstream.DeviceList{Devices: []upstream.Device{}}
	for _, d := range rec.Devices {
		l.Devices = append(l.Devices, d.api())
	}
	writeAnswer(w, answer{status: http.StatusOK, body: l})
}

// prepDeviceRemove unlinks a device; one that is not the account's is
// refused as not found (its owner keeps it).
func (s *Server) prepDeviceRemove(sess session, plain []byte) (writeFunc, *answer) {
	return authed(s, sess, plain, func(v upstream.DeviceRemove) []upstream.FieldError {
		switch {
		case v.DeviceID == "":
			return []upstream.FieldError{{Field: "device_id", Code: rules.CodeRequired, Message: "the device id is required"}}
		case len(v.DeviceID) > upstream.DeviceIDMaxBytes || strings.Trim(v.DeviceID, "0123456789abcdef") != "":
			return []upstream.FieldError{{Field: "device_id", Code: rules.CodeFormat, Message: "a device id is up to 64 hexadecimal digits"}}
		}
		return nil
	}, func(tx *bolt.Tx, v upstream.DeviceRemove, rec *record) answer {
		i := slices.IndexFunc(rec.Devices, func(d deviceRec) bool { return d.ID == v.DeviceID })
		if i < 0 {
			return apiErr(http.StatusNotFound, upstream.ErrCodeNotFound, "no such device on this account")
		}
		rec.Devices = slices.Delete(rec.Devices, i, i+1)
		return s.save(tx, rec, answer{status: http.StatusOK, body: upstream.StatusReply{Status: upstream.StatusRemoved}})
	})
}
