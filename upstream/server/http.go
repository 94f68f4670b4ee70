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
	"slices"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	bolt "go.etcd.io/bbolt"

	"github.com/nhikiosk/nhikiosk/upstream"
)

// maxBody bounds a request body.
const maxBody = 64 << 10

// answer is what a write produces: a status and a JSON body. noStore
// marks a refusal given before the request was looked at (a client's own
// rate limit): it is not kept for the Idempotency-Key, so the same
// request after the wait is answered for real.
type answer struct {
	status  int
	body    any
	noStore bool
	// effect, if set, runs in the transaction that stores an early
	// answer (a refusal decided before it, which must still count).
	effect func(tx *bolt.Tx) error
}

func apiErr(status int, code, msg string) answer {
	return answer{status: status, body: upstream.ErrorBody{Error: &upstream.Error{Code: code, Message: msg}}}
}

func invalid(f []upstream.FieldError) answer {
	return answer{status: http.StatusUnprocessableEntity, body: upstream.ErrorBody{Error: &upstream.Error{
		Code: upstream.ErrCodeInvalid, Message: "some fields are invalid", Fields: f}}}
}

// idemRef names the request a write answers: a keyed hash of its path
// and Idempotency-Key, and the hash of its body. A registration keeps it
// to recognise its own replay after the stored answer is purged.
type idemRef struct {
	key, sum []byte
	// r and plain are the request and its body, for the card's proof.
	r     *http.Request
	plain []byte
}

// writeFunc handles a write inside one database transaction. Answers
// below 500 are stored for the request's Idempotency-Key.
type writeFunc func(tx *bolt.Tx, req idemRef) answer

// prepFunc runs before the transaction (decoding, validation, hashing)
// and returns either an immediate answer or the transaction's work.
type prepFunc func(plain []byte) (writeFunc, *answer)

// route is one endpoint: its method, the certificate roles that may use
// it (nil: any client, as the e-mail link's page) and its handler.
type route struct {
	method string
	roles  []string
	h      http.HandlerFunc
}

var (
	kioskOnly = []string{upstream.RoleKiosk}
	phoneOnly = []string{upstream.RolePhone}
)

// Handler returns the API's HTTP handler.
func (s *Server) Handler() http.Handler {
	routes := map[string]route{
		upstream.PathRegistrations: {http.MethodPost, kioskOnly, s.identified(upstream.PathRegistrations, s.prepRegister)},
		upstream.PathResend:        {http.MethodPost, kioskOnly, s.identified(upstream.PathResend, s.prepResend)},
		upstream.PathCancel:        {http.MethodPost, kioskOnly, s.identified(upstream.PathCancel, s.prepCancel)},
		upstream.PathVerifications: {http.MethodPost, kioskOnly, s.identified(upstream.PathVerifications, s.prepVerify)},
		upstream.PathResets:        {http.MethodPost, kioskOnly, s.identified(upstream.PathResets, s.prepReset)},
		upstream.PathResetConfirm:  {http.MethodPost, kioskOnly, s.identified(upstream.PathResetConfirm, s.prepResetConfirm)},
		upstream.PathDivisions:     {http.MethodGet, kioskOnly, s.getDivisions},
		upstream.PathTerms:         {http.MethodGet, kioskOnly, s.getJSON(func() (any, string) { return s.terms, s.termsTag })},
		upstream.PathTime:          {http.MethodGet, kioskOnly, s.getTime},
		"/confirm":                 {http.MethodGet, nil, s.confirmPage},
		upstream.PathSessions:      {http.MethodPost, kioskOnly, s.identified(upstream.PathSessions, s.prepLogin)},
		upstream.PathSessionEnd:    {http.MethodPost, kioskOnly, s.writeAuth(upstream.PathSessionEnd, s.prepLogout)},
		upstream.PathAccount:       {http.MethodGet, kioskOnly, s.getAuth(s.getAccount)},
		upstream.PathContact:       {http.MethodPost, kioskOnly, s.writeAuth(upstream.PathContact, s.prepContact)},
		upstream.PathEmailConfirm:  {http.MethodPost, kioskOnly, s.writeAuth(upstream.PathEmailConfirm, s.prepEmailConfirm)},
		upstream.PathPassword:      {http.MethodPost, kioskOnly, s.writeAuth(upstream.PathPassword, s.prepPassword)},
		upstream.PathBindings:      {http.MethodPost, kioskOnly, s.writeAuth(upstream.PathBindings, s.prepBindingStart)},
		upstream.PathBindingStatus: {http.MethodGet, kioskOnly, s.getAuth(s.getBindingStatus)},
		upstream.PathBind:          {http.MethodPost, phoneOnly, s.identified(upstream.PathBind, s.prepBind)},
		upstream.PathDevices:       {http.MethodGet, kioskOnly, s.getAuth(s.getDevices)},
		upstream.PathDeviceRemove:  {http.MethodPost, kioskOnly, s.writeAuth(upstream.PathDeviceRemove, s.prepDeviceRemove)},
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
		case !allowed(r, rt.roles):
			writeAnswer(rw, apiErr(http.StatusForbidden, upstream.ErrCodeForbidden, "this client certificate's role may not use this endpoint"))
			return
		}
		if !s.inject(rw, r) {
			return
		}
		rt.h(rw, r)
	})
}

// allowed reports whether the client may use an endpoint served to
// roles: its certificate names one of them as an organizational unit
// (upstream.RoleKiosk, RolePhone). Without TLS (nhisim -dev, on
// loopback) there is no certificate and every role is allowed.
func allowed(r *http.Request, roles []string) bool {
	if roles == nil || r.TLS == nil {
		return true
	}
	if len(r.TLS.PeerCertificates) == 0 {
		return false
	}
	for _, ou := range r.TLS.PeerCertificates[0].Subject.OrganizationalUnit {
		if slices.Contains(roles, ou) {
			return true
		}
	}
	return false
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

// errRollback undoes a write transaction whose answer is a 5xx.
var errRollback = errors.New("rollback")

// validIdemKey: 1 to 64 visible ASCII characters.
func validIdemKey(k string) bool {
	if k == "" || len(k) > upstream.IdemKeyMaxBytes {
		return false
	}
	for i := range len(k) {
		if k[i] <= ' ' || k[i] > '~' {
			return false
		}
	}
	return true
}

// write serves a write: it reads the body, replays the answer stored for
// its Idempotency-Key if there is one, and otherwise prepares the work
// (decoding, validation, hashing) and does it in one transaction with
// storing the answer. Every answer to a request whose body could be read
// is stored, an early 400 or 422 included (issue 13), but a 5xx (nothing
// is committed) and a client's own rate limit (noStore).
func (s *Server) write(path string, prep prepFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(upstream.HeaderIdemKey)
		if !validIdemKey(key) {
			writeAnswer(w, apiErr(http.StatusBadRequest, upstream.ErrCodeIdemKeyRequired, "an Idempotency-Key header of 1 to 64 visible ASCII characters is required"))
			return
		}
		plain, a := s.readBody(r, path)
		if a != nil {
			writeAnswer(w, *a)
			return
		}
		// Trailing white space aside: a kiosk's outbox pads what it queues.
		sum := sha256.Sum256(bytes.TrimRight(plain, " \t\r\n"))
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
		if early != nil && (early.noStore || early.status >= 500) {
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
			switch {
			case early != nil:
				out = *early
				if out.effect != nil {
					if err := out.effect(tx); err != nil {
						return err
					}
				}
			case path == upstream.PathRegistrations:
				// It checks its card's proof itself, after recognising its
				// own replay (whose proof was used by the first time).
				out = fn(tx, idemRef{key: s.st.mac("idem", string(idem)), sum: sum[:], r: r, plain: plain})
			default:
				if a := s.checkProof(tx, r, path, plain); a != nil { // issue 24
					out = *a
				} else {
					out = fn(tx, idemRef{key: s.st.mac("idem", string(idem)), sum: sum[:], r: r, plain: plain})
				}
			}
			var err error
			if raw, err = json.Marshal(out.body); err != nil {
				return err
			}
			switch {
			case out.status >= 500:
				return errRollback
			case out.noStore:
				return nil
			}
			// Sealed: answers hold session tokens and binding codes.
			return s.st.putSealed(tx, bucketIdem, idem, storedAnswer{RequestHash: sum[:], Status: out.status, Body: raw, At: s.o.Now()})
		})
		switch {
		case errors.Is(err, errRollback):
			writeRaw(w, out.status, raw)
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

// decode reads exactly one JSON object into v by upstream.DecodeStrict:
// unknown, case-mismatched and duplicate keys, invalid UTF-8 and trailing
// data are 400 bad_request.
func decode(plain []byte, v any) *answer {
	if err := upstream.DecodeStrict(plain, v); err != nil {
		a := apiErr(http.StatusBadRequest, upstream.ErrCodeBadRequest, badJSONMessage(err))
		return &a
	}
	return nil
}

// badJSONMessage names the problem without echoing values.
func badJSONMessage(err error) string {
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %s has the wrong type", te.Field)
	case errors.Is(err, upstream.ErrNotUTF8), errors.Is(err, upstream.ErrReplacement), errors.Is(err, upstream.ErrDuplicateKey),
		errors.Is(err, upstream.ErrKeyCase), errors.Is(err, upstream.ErrUnknownKey), errors.Is(err, upstream.ErrTooDeep),
		errors.Is(err, upstream.ErrTrailing):
		return err.Error()
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
		writeAnswer(w, answer{status: http.StatusOK, body: v})
	}
}

// getDivisions answers the division list, precomputed: 304 on its ETag,
// gzipped for clients that take it (the whole list is about 700 kB of
// JSON, 100 kB gzipped).
func (s *Server) getDivisions(w http.ResponseWriter, r *http.Request) {
	ds := s.divs.Load()
	w.Header().Set("ETag", ds.tag)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == ds.tag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", upstream.ContentJSON)
	body := ds.body
	if acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		body = ds.gz
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
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

// writeRaw writes an answer's JSON; an error with a retry_at also gets
// the Retry-After header (RFC 9110 §10.2.3), in seconds from now.
func writeRaw(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", upstream.ContentJSON)
	if status >= 400 {
		var eb upstream.ErrorBody
		if json.Unmarshal(b, &eb) == nil && eb.Error != nil {
			if sw, ok := w.(*statusWriter); ok {
				sw.code = eb.Error.Code
			}
			if eb.Error.RetryAt != nil {
				w.Header().Set("Retry-After", strconv.Itoa(max(1, int(time.Until(*eb.Error.RetryAt).Seconds()+0.999))))
			}
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
