package appliance

import (
	"context"
	"errors"
	"fmt"

	"github.com/nhikiosk/nhikiosk/divisions"
)

// CardReader reads the NHI card in the kiosk's reader. ReadProfile blocks
// until the card answered or ctx ends; an error wrapping a reader sentinel
// is shown through its catalog key (see CardErrorKey). It is called from one
// goroutine at a time.
type CardReader interface {
	ReadProfile(ctx context.Context) (CardProfile, error)
}

// CardErrorKey maps a card read error to a message catalog key, e.g.
// "card.error.mute". cmd/kiosk passes reader.CatalogKey.
type CardErrorKey func(error) string

// Upstream is the registration service as the wizard needs it. Every call
// blocks until the upstream answered or ctx ends (the implementation bounds
// each request with its own timeout) and is safe for concurrent use. Errors
// the person can act on are *UpstreamError; anything else counts as
// ErrUnavailable.
type Upstream interface {
	// Terms returns the rules of the service in lang ("zh-TW" or "en").
	Terms(ctx context.Context, lang string) (Terms, error)
	// Divisions returns the upstream's division list: the one it serves
	// now, or, when it cannot be reached, the copy kept from its last
	// answer (Cached).
	Divisions(ctx context.Context) (DivisionList, error)
	// Register submits a registration and returns its receipt. When the
	// upstream cannot be reached, an implementation with an outbox keeps
	// the registration there (encrypted, so the kiosk cannot read it back)
	// and returns a receipt with Queued set.
	Register(ctx context.Context, r Registration) (Receipt, error)
	// Verify completes e-mail verification with the code from the e-mail.
	Verify(ctx context.Context, id Identity, code string) error
	// Resend sends the confirmation e-mail again.
	Resend(ctx context.Context, id Identity) error
	// RequestReset e-mails a password reset code.
	RequestReset(ctx context.Context, id Identity) error
	// ResetPassword sets a new password with the code from the e-mail.
	ResetPassword(ctx context.Context, id Identity, code, password string) error
	// Cancel deletes a registration application, confirmed by its password.
	Cancel(ctx context.Context, id Identity, password string) error
}

// Terms is one version of the rules of the service in one language.
type Terms struct {
	Version string
	Lang    string
	Text    string
}

// Division is a county/city, township or village (村里) of the household
// registration address: its official code, its names in Chinese and
// English, and the divisions under it.
type Division = divisions.Division

// DivisionList is a division list as the upstream gave it: its version
// (the date it took effect), the counties, and whether it is the copy
// kept from an earlier answer because the upstream did not answer now.
type DivisionList struct {
	divisions.List
	Cached bool
}

// Identity names the card holder to the upstream for the account services.
// The strings are copies made for one call; the session keeps the originals.
type Identity struct {
	IDNumber   string
	CardNumber string
	// CardProof is the upstream's proof that it authenticated the card for
	// this call (cardcheck.go); empty when it authenticates none.
	CardProof string
}

// Registration is what Register sends. Its strings are copies made for one
// call, built just before submitting; the implementation adds the
// idempotency key and the kiosk's id.
type Registration struct {
	TermsVersion string
	Lang         string
	Identity
	Name      string
	BirthDate string // YYYY-MM-DD
	Household string
	// The address by the divisions' official codes.
	CountyCode    string
	TownshipCode  string
	VillageCode   string
	Neighbourhood int
	Password      string
	PhoneArea     string
	PhoneNumber   string
	PhoneExt      string
	Mobile        string
	Email         string
	BackupEmail   string
}

// String keeps a Registration out of logs and error messages.
func (Registration) String() string { return "Registration{redacted}" }

// GoString keeps a Registration out of %#v.
func (Registration) GoString() string { return "Registration{redacted}" }

// Receipt is the upstream's answer to a registration.
type Receipt struct {
	// Reference identifies the application, e.g. for the help desk; empty
	// when queued.
	Reference string
	// Queued is set when the upstream could not be reached and the
	// registration waits in the outbox: the e-mail will follow.
	Queued bool
}

// Kinds of upstream errors the wizard acts on.
const (
	KindUnavailable       = "unavailable"        // network, timeout, 5xx: try later / outbox
	KindInvalid           = "invalid"            // Fields say which
	KindAlreadyRegistered = "already_registered" // offer verification / resend
	KindNotRegistered     = "not_registered"     // offer registration
	KindAlreadyVerified   = "already_verified"   // nothing left to do
	KindBadCode           = "bad_code"           // wrong or expired e-mail code
	KindWrongPassword     = "wrong_password"
	KindLocked            = "locked"        // too many attempts
	KindNotActive         = "not_active"    // still waiting for e-mail verification
	KindTermsChanged      = "terms_changed" // read and accept the new rules
	KindRejected          = "rejected"      // any other refusal
)

// ErrUnavailable is an upstream that cannot be reached now.
var ErrUnavailable = errors.New("upstream unavailable")

// UpstreamError is an answer of the upstream the person can act on. It holds
// kinds and field names only, never a value, so it is safe to log.
type UpstreamError struct {
	Kind   string
	Fields []FieldProblem
}

// FieldProblem is one field the upstream rejected, with a rules code
// (e.g. "format", "check_digit", "taken").
type FieldProblem struct {
	Field FieldID
	Code  string
}

func (e *UpstreamError) Error() string {
	return fmt.Sprintf("upstream: %s (%d field problems)", e.Kind, len(e.Fields))
}

// errorKind classifies err for the wizard and for logs.
func errorKind(err error) string {
	var ue *UpstreamError
	if errors.As(err, &ue) {
		return ue.Kind
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	return KindUnavailable
}
