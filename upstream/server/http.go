package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"time"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// answer is what a write produces: a status and a JSON body.
type answer struct {
	status int
	body   any
}

func apiErr(status int, code, msg string) answer {
	return answer{status, upstream.ErrorBody{Error: &upstream.Error{Code: code, Message: msg}}}
}

func invalid(f []upstream.FieldError) answer {
	return answer{http.StatusUnprocessableEntity, upstream.ErrorBody{Error: &upstream.Error{
		Code: upstream.ErrCodeInvalid, Message: "some fields are invalid", Fields: f}}}
}

// writeFunc handles a write inside one database transaction, given the
// decrypted JSON body. Answers below 500 are stored for the request's
// Idempotency-Key.
type writeFunc func(tx *bolt.Tx, plain []byte) answer

// prepFunc runs before the transaction (decoding, validation, hashing)
// and returns either an immediate answer or the transaction's work.
type prepFunc func(plain []byte) (writeFunc, *answer)

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler {
	routes := map[string]struct {
		method string
		h      http.HandlerFunc
	}{
		upstream.PathRegistrations: {http.MethodPost, s.write(upstream.PathRegistrations, s.prepRegister)},
		upstream.PathResend:        {http.MethodPost, s.write(upstream.PathResend, s.prepResend)},
		upstream.PathCancel:        {http.MethodPost, s.write(upstream.PathCancel, s.prepCancel)},
		upstream.PathVerifications: {http.MethodPost, s.write(upstream.PathVerifications, s.prepVerify)},
		upstream.PathResets:        {http.MethodPost, s.write(upstream.PathResets, s.prepReset)},
		upstream.PathResetConfirm:  {http.MethodPost, s.write(upstream.PathResetConfirm, s.prepResetConfirm)},
		upstream.PathDivisions:     {http.MethodGet, s.getJSON(func() (any, string) { return s.divs, s.divsTag })},
		upstream.PathTerms:         {http.MethodGet, s.getJSON(func() (any, string) { return s.terms, s.termsTag })},
		upstream.PathTime:          {http.MethodGet, s.getTime},
		"/confirm":                 {http.MethodGet, s.confirmPage},
		upstream.PathSessions:      {http.MethodPost, s.handleLogin},
		upstream.PathSessionEnd:    {http.MethodPost, s.writeAuth(upstream.PathSessionEnd, s.prepLogout)},
		upstream.PathAccount:       {http.MethodGet, s.getAuth(s.getAccount)},
		upstream.PathContact:       {http.MethodPost, s.writeAuth(upstream.PathContact, s.prepContact)},
		upstream.PathEmailConfirm:  {http.MethodPost, s.writeAuth(upstream.PathEmailConfirm, s.prepEmailConfirm)},
		upstream.PathPassword:      {http.MethodPost, s.writeAuth(upstream.PathPassword, s.prepPassword)},
		upstream.PathBindings:      {http.MethodPost, s.writeAuth(upstream.PathBindings, s.prepBindingStart)},
		upstream.PathBindingStatus: {http.MethodGet, s.getAuth(s.getBindingStatus)},
		upstream.PathBind:          {http.MethodPost, s.handleBind},
		upstream.PathDevices:       {http.MethodGet, s.getAuth(s.getDevices)},
		upstream.PathDeviceRemove:  {http.MethodPost, s.writeAuth(upstream.PathDeviceRemove, s.prepDeviceRemove)},
	}
	s.cardAuthRoutes(routes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &statusWriter{ResponseWriter: w}
		defer func() {
			s.o.Logger.Info("request", "kiosk", kiosk(r), "method", r.Method, "path", r.URL.Path, "status", rw.status, "code", rw.code)
		}()
		rt, ok := routes[r.URL.Path]
		switch {
		case !ok:
			writeAnswer(rw, apiErr(http.StatusNotFound, upstream.ErrCodeNotFound, "no such endpoint"))
			return
		case r.Method != rt.method:
			rw.Header().Set("Allow", rt.method)
			writeAnswer(rw, apiErr(http.StatusMethodNotAllowed, upstream.ErrCodeMethod, "use "+rt.method))
			return
		}
		if !s.inject(rw, r) {
			return
		}
		rt.h(rw, r)
	})
}

// kiosk names the client by its certificate's common name (mutual TLS),
// or "-" in dev mode.
func kiosk(r *http.Request) string {
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		return r.TLS.PeerCertificates[0].Subject.CommonName
	}
	return "-"
}

// inject applies -delay and -fail; it reports whether to go on.
func (s *Server) inject(w http.ResponseWriter, r *http.Request) bool {
	if s.o.Delay > 0 {
		select {
		case <-time.After(s.o.Delay):
		case <-r.Context().Done():
			return false
		}
	}
	if s.o.FailRate > 0 && rand.Float64() < s.o.FailRate {
		writeAnswer(w, apiErr(http.StatusServiceUnavailable, upstream.ErrCodeUnavailable, "injected fault (nhisim -fail)"))
		return false
	}
	return true
}

func (s *Server) write(path string, prep prepFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(upstream.HeaderIdemKey)
		if key == "" || len(key) > upstream.IdemKeyMaxBytes {
			writeAnswer(w, apiErr(http.StatusBadRequest, upstream.ErrCodeIdemKeyRequired, "an Idempotency-Key header of 1 to 64 characters is required"))
			return
		}
		plain, a := s.readBody(r, path)
		if a != nil {
			writeAnswer(w, *a)
			return
		}
		sum := sha256.Sum256(plain)
		idem := []byte(path + "\x00" + key)
		// A replay is answered before any validation, so a retry gets the
		// first answer even if, say, the terms changed in between.
		if st, ok, err := s.storedAnswer(idem); err != nil {
			writeAnswer(w, apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error"))
			return
		} else if ok {
			s.replay(w, st, sum[:])
			return
		}
		fn, early := prep(plain)
		if early != nil {
			writeAnswer(w, *early)
			return
		}
		var out answer
		var raw []byte
		var replayed *storedAnswer
		err := s.st.db.Update(func(tx *bolt.Tx) error {
			if v := tx.Bucket(bucketIdem).Get(idem); v != nil {
				replayed = new(storedAnswer)
				return s.openAnswer(v, replayed)
			}
			if a := s.checkProof(tx, r, path, plain); a != nil { // issue 24
				out = *a
			} else {
				out = fn(tx, plain)
			}
			var err error
			if raw, err = json.Marshal(out.body); err != nil || out.status >= 500 {
				return err
			}
			// Sealed: answers hold session tokens and binding codes.
			return s.st.putSealed(tx, bucketIdem, idem, storedAnswer{RequestHash: sum[:], Status: out.status, Body: raw})
		})
		switch {
		case err != nil:
			s.o.Logger.Error("write failed", "path", path, "err", err)
			writeAnswer(w, apiErr(http.StatusInternalServerError, upstream.ErrCodeInternal, "storage error"))
		case replayed != nil:
			s.replay(w, *replayed, sum[:])
		default:
			writeRaw(w, out.status, raw)
			s.notifyMail()
			s.changed()
		}
	}
}

func (s *Server) storedAnswer(idem []byte) (st storedAnswer, ok bool, err error) {
	err = s.st.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketIdem).Get(idem)
		if v == nil {
			return nil
		}
		ok = true
		return s.openAnswer(v, &st)
	})
	return st, ok, err
}

// openAnswer unseals a stored answer; a database from before answers
// were sealed holds them as plain JSON, which is still read.
func (s *Server) openAnswer(v []byte, st *storedAnswer) error {
	if err := s.st.open(v, st); err != nil {
		if json.Unmarshal(v, st) == nil {
			return nil
		}
		return err
	}
	return nil
}

func (s *Server) replay(w http.ResponseWriter, st storedAnswer, sum []byte) {
	if !bytes.Equal(st.RequestHash, sum) {
		writeAnswer(w, apiErr(http.StatusUnprocessableEntity, upstream.ErrCodeIdemKeyReused, "this Idempotency-Key was used for another request"))
		return
	}
	s.stats.replayed.Add(1)
	w.Header().Set("Idempotent-Replayed", "true")
	writeRaw(w, st.Status, st.Body)
}

// readBody reads the body as JSON, or decrypts an age body from an outbox.
// The request hash is over the plaintext, so a registration first tried
// online and then sent from the outbox with the same key is one request.
func (s *Server) readBody(r *http.Request, path string) ([]byte, *answer) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		a := apiErr(http.StatusRequestEntityTooLarge, upstream.ErrCodeBadRequest, "body too large or unreadable")
		return nil, &a
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == upstream.ContentJSON:
		return body, nil
	case ct == upstream.ContentAgeJSON && path == upstream.PathRegistrations:
		rd, err := age.Decrypt(bytes.NewReader(body), s.o.Identity)
		if err == nil {
			var plain []byte
			if plain, err = io.ReadAll(io.LimitReader(rd, maxBody+1)); err == nil && len(plain) <= maxBody {
				return plain, nil
			}
		}
		a := apiErr(http.StatusBadRequest, upstream.ErrCodeUndecryptable, "the body is not age-encrypted to this server's key")
		return nil, &a
	}
	a := apiErr(http.StatusUnsupportedMediaType, upstream.ErrCodeUnsupportedType, "send "+upstream.ContentJSON)
	return nil, &a
}

// decode reads exactly one JSON object into v, refusing unknown fields.
func decode(plain []byte, v any) *answer {
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data after the JSON object")
	}
	if err == nil {
		var extra json.RawMessage
		if dec.Decode(&extra) != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err != nil {
		a := apiErr(http.StatusBadRequest, upstream.ErrCodeBadRequest, badJSONMessage(err))
		return &a
	}
	return nil
}

// badJSONMessage names the problem without echoing values.
func badJSONMessage(err error) string {
	msg := err.Error()
	if strings.HasPrefix(msg, "json: unknown field") {
		return strings.TrimPrefix(msg, "json: ")
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s has the wrong type", te.Field)
	}
	return "the body is not a valid JSON object"
}

func (s *Server) getJSON(get func() (any, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, tag := get()
		w.Header().Set("ETag", tag)
		w.Header().Set("Cache-Control", "no-cache")
		if r.Header.Get("If-None-Match") == tag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeAnswer(w, answer{http.StatusOK, v})
	}
}

func etagOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

func writeAnswer(w http.ResponseWriter, a answer) {
	b, err := json.Marshal(a.body)
	if err != nil {
		a.status, b = 500, []byte(`{"error":{"code":"internal"}}`)
	}
	writeRaw(w, a.status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", upstream.ContentJSON)
	if sw, ok := w.(*statusWriter); ok && status >= 400 {
		var eb upstream.ErrorBody
		if json.Unmarshal(b, &eb) == nil && eb.Error != nil {
			sw.code = eb.Error.Code
		}
	}
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// statusWriter remembers the status and error code for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
	code   string
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }
