package upstream

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Error codes the API answers with. They are stable: programs and the
// kiosk's message catalog key on them.
const (
	ErrCodeInvalid           = "invalid"     // 422: see Fields
	ErrCodeBadRequest        = "bad_request" // 400: not JSON, unknown field
	ErrCodeIdemKeyRequired   = "idempotency_key_required"
	ErrCodeIdemKeyReused     = "idempotency_key_reused" // 422: same key, other request
	ErrCodeAlreadyRegistered = "already_registered"     // 409
	ErrCodePendingExists     = "pending_exists"         // 409
	ErrCodeTermsChanged      = "terms_changed"          // 409
	ErrCodeNotFound          = "not_found"              // 404
	ErrCodeNotPending        = "not_pending"            // 409: already active
	ErrCodeNotActive         = "not_active"             // 409: still pending
	ErrCodeWrongCode         = "wrong_code"             // 422
	ErrCodeExpired           = "expired"                // 410
	ErrCodeTooManyTries      = "too_many_tries"         // 429
	ErrCodeWrongPassword     = "wrong_password"         // 403
	ErrCodeUnsupportedType   = "unsupported_media_type" // 415
	ErrCodeUndecryptable     = "undecryptable"          // 400: age body
	ErrCodeMethod            = "method_not_allowed"     // 405
	ErrCodeUnavailable       = "unavailable"            // 503
	ErrCodeInternal          = "internal"               // 500
	ErrCodeUnauthorized      = "unauthorized"           // 401: no, expired or another kiosk's session
	ErrCodeAccountLocked     = "account_locked"         // 423: 5 wrong passwords; use forgot password
	ErrCodeCodeUsed          = "code_used"              // 409: binding code already used
	ErrCodeForbidden         = "forbidden"              // 403: the client certificate's role may not use this endpoint
	ErrCodeCardNotGenuine    = "card_not_genuine"       // 403: the security module refused the card
	ErrCodeCardAuthRequired  = "card_auth_required"     // 403: the call needs a card authentication's proof
	ErrCodeCardAuthInvalid   = "card_auth_invalid"      // 403: proof unknown, used, expired, or another card's, purpose's or kiosk's
	ErrCodeCardAuthRound     = "card_auth_round"        // 409: not the exchange's open round
	ErrCodeCardAuthProtocol  = "card_auth_protocol"     // 400: a card authentication protocol this upstream does not speak
)

// FieldError is one invalid field: its JSON path ("contact.email"), a
// stable code from package rules ("format", "check_digit"…) and an English
// message. It never holds the value.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// Error is an answer from the upstream that is not a success: the HTTP
// status, the stable code and, for 422 invalid, every invalid field.
type Error struct {
	Status  int          `json:"-"`
	Code    string       `json:"code"`
	Message string       `json:"message,omitempty"`
	Fields  []FieldError `json:"fields,omitempty"`
	// RetryAt is when a 429 too_many_tries lock ends (also sent as the
	// Retry-After header); nil for a lock only a password reset lifts
	// (423 account_locked) and for every other error.
	RetryAt *time.Time `json:"retry_at,omitempty"`
}

// ErrorBody is the JSON envelope of every error answer.
type ErrorBody struct {
	Error *Error `json:"error"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "upstream: %d %s", e.Status, e.Code)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, " %s:%s", f.Field, f.Code)
	}
	return b.String()
}

// Final reports whether the upstream has decided: a retry of the same
// request would get the same answer (every 4xx but 408 and 429, which
// say to come back later). 5xx are not final.
func (e *Error) Final() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != 408 && e.Status != 429
}

// ErrUnavailable wraps every failure to get an answer from the upstream:
// connection refused, timeout, TLS failure, 5xx after retries. The wizard
// tells the person to try later, or that the registration is queued.
var ErrUnavailable = errors.New("upstream unavailable")

// Code returns the API error code in err, or "" if err is not an *Error.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Fields returns the field errors in err (nil if none).
func Fields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

// FieldCodeUnknown is the field code for a county, township or village
// that is not in the division data; the other field codes come from
// package rules.
const FieldCodeUnknown = "unknown"
