package devices

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/nhikiosk/nhikiosk/appliance"
	"github.com/nhikiosk/nhikiosk/upstream"
)

// Upstream is the wizard's upstream on an upstream.Client. It is safe for
// concurrent use, as the client is.
type Upstream struct {
	Client *upstream.Client
	// KioskID goes with every registration.
	KioskID string
	// CacheDir keeps the last division list and rules fetched, for when
	// the upstream cannot be reached; empty keeps nothing.
	CacheDir string
	// Log gets a line when the cache cannot be written; nil discards.
	Log *slog.Logger
}

// keep writes the cache; a failure costs only the offline copy, so it is
// logged and the fresh answer is used anyway.
func (u Upstream) keep(name string, v any) {
	if err := save(u.CacheDir, name, v); err != nil && u.Log != nil {
		u.Log.Warn("cache not written", "file", name, "err", err)
	}
}

// Cache file names in CacheDir.
const (
	termsCache = "terms.json"
	// divisionsCache holds a divisionsCopy (the list by codes; kiosks
	// before it kept the names only, in divisions.json).
	divisionsCache = "division-list.json"
)

var _ appliance.Upstream = Upstream{}

// Terms returns the current rules of the service in lang.
func (u Upstream) Terms(ctx context.Context, lang string) (appliance.Terms, error) {
	t, err := u.Client.Terms(ctx)
	if err == nil {
		u.keep(termsCache, t)
	} else if load(u.CacheDir, termsCache, &t) {
		err = nil
	}
	if err != nil {
		return appliance.Terms{}, wizardError("terms", err)
	}
	text := t.Text[lang]
	if text == "" {
		text = t.Text[appliance.LangZhTW]
	}
	return appliance.Terms{Version: t.Version, Lang: lang, Text: text}, nil
}

// divisionsCopy is what the division cache holds: the list the upstream
// last served, with its ETag, so the next request asks "has it changed?"
// and a 304 costs nothing.
type divisionsCopy struct {
	ETag string             `json:"etag"`
	List upstream.Divisions `json:"list"`
}

// Divisions returns the upstream's division list. With a copy on disk it
// asks whether the list changed (If-None-Match) and answers the copy when
// it did not; a new list replaces the copy. When the upstream does not
// answer, the copy is answered as Cached (the wizard uses it only if it is
// newer than its own).
func (u Upstream) Divisions(ctx context.Context) (appliance.DivisionList, error) {
	var kept divisionsCopy
	if !load(u.CacheDir, divisionsCache, &kept) || kept.List.Check() != nil {
		kept = divisionsCopy{}
	}
	d, tag, err := u.Client.Divisions(ctx, kept.ETag)
	switch {
	case err == nil:
		u.keep(divisionsCache, divisionsCopy{ETag: tag, List: d})
		return appliance.DivisionList{List: d.List()}, nil
	case errors.Is(err, upstream.ErrNotModified):
		return appliance.DivisionList{List: kept.List.List()}, nil
	case kept.ETag != "" || len(kept.List.Counties) > 0:
		return appliance.DivisionList{List: kept.List.List(), Cached: true}, nil
	}
	return appliance.DivisionList{}, wizardError("divisions", err)
}

// Register submits r; an unreachable upstream leaves it in the client's
// outbox and the receipt says Queued.
func (u Upstream) Register(ctx context.Context, r appliance.Registration) (appliance.Receipt, error) {
	res, err := u.Client.Register(ctx, upstream.Registration{
		CardNumber: r.CardNumber, IDNumber: r.IDNumber, Name: r.Name, BirthDate: r.BirthDate,
		Household: upstream.Household{Number: r.Household, CountyCode: r.CountyCode, TownshipCode: r.TownshipCode,
			VillageCode: r.VillageCode, Neighbourhood: r.Neighbourhood},
		Password: r.Password,
		Contact: upstream.Contact{
			Phone:  upstream.Phone{AreaCode: r.PhoneArea, Number: r.PhoneNumber, Extension: r.PhoneExt},
			Mobile: r.Mobile, Email: r.Email, BackupEmail: r.BackupEmail,
		},
		TermsVersion: r.TermsVersion,
		KioskID:      u.KioskID,
		CardAuth:     r.CardProof,
	})
	if err != nil {
		return appliance.Receipt{}, wizardError("register", err)
	}
	return appliance.Receipt{Reference: res.Reference, Queued: res.Queued}, nil
}

// Verify completes e-mail verification.
func (u Upstream) Verify(ctx context.Context, id appliance.Identity, code string) error {
	return wizardError("verify", u.Client.Verify(ctx, id.CardNumber, id.IDNumber, code, upstream.WithCardAuth(id.CardProof)))
}

// Resend sends the confirmation e-mail again.
func (u Upstream) Resend(ctx context.Context, id appliance.Identity) error {
	return wizardError("resend", u.Client.Resend(ctx, id.CardNumber, id.IDNumber))
}

// RequestReset e-mails a password reset code.
func (u Upstream) RequestReset(ctx context.Context, id appliance.Identity) error {
	return wizardError("password reset", u.Client.PasswordReset(ctx, id.CardNumber, id.IDNumber))
}

// ResetPassword sets the new password with the e-mailed code.
func (u Upstream) ResetPassword(ctx context.Context, id appliance.Identity, code, password string) error {
	return wizardError("password reset confirm", u.Client.PasswordResetConfirm(ctx, id.CardNumber, id.IDNumber, code, password, upstream.WithCardAuth(id.CardProof)))
}

// Cancel deletes a pending application.
func (u Upstream) Cancel(ctx context.Context, id appliance.Identity, password string) error {
	return wizardError("cancel", u.Client.Cancel(ctx, id.CardNumber, id.IDNumber, password, upstream.WithCardAuth(id.CardProof)))
}

// kinds maps the API's error codes to what the wizard does about them.
var kinds = map[string]string{
	upstream.ErrCodeInvalid:           appliance.KindInvalid,
	upstream.ErrCodeAlreadyRegistered: appliance.KindAlreadyRegistered,
	upstream.ErrCodePendingExists:     appliance.KindAlreadyRegistered,
	upstream.ErrCodeTermsChanged:      appliance.KindTermsChanged,
	upstream.ErrCodeNotFound:          appliance.KindNotRegistered,
	upstream.ErrCodeNotPending:        appliance.KindAlreadyVerified,
	upstream.ErrCodeNotActive:         appliance.KindNotActive,
	upstream.ErrCodeWrongCode:         appliance.KindBadCode,
	upstream.ErrCodeExpired:           appliance.KindBadCode,
	upstream.ErrCodeTooManyTries:      appliance.KindLocked,
	upstream.ErrCodeWrongPassword:     appliance.KindWrongPassword,
	upstream.ErrCodeUnavailable:       appliance.KindUnavailable,
	upstream.ErrCodeInternal:          appliance.KindUnavailable,
	upstream.ErrCodeUnauthorized:      appliance.KindUnauthorized,
	upstream.ErrCodeAccountLocked:     appliance.KindAccountLocked,
	upstream.ErrCodeCodeUsed:          appliance.KindCodeUsed,
	upstream.ErrCodeCardNotGenuine:    appliance.KindCardNotGenuine,
	upstream.ErrCodeCardAuthRequired:  appliance.KindCardCheckFailed,
	upstream.ErrCodeCardAuthInvalid:   appliance.KindCardCheckFailed,
	upstream.ErrCodeCardAuthRound:     appliance.KindCardCheckFailed,
	upstream.ErrCodeCardAuthProtocol:  appliance.KindCardCheckFailed,
}

// fields maps the API's field paths to the wizard's fields.
var fields = map[string]appliance.FieldID{
	"household.number":        appliance.FieldHousehold,
	"household.county_code":   appliance.FieldAddress,
	"household.township_code": appliance.FieldAddress,
	"household.village_code":  appliance.FieldAddress,
	"household.county":        appliance.FieldAddress,
	"household.township":      appliance.FieldAddress,
	"household.village":       appliance.FieldAddress,
	"household.neighbourhood": appliance.FieldNeighbourhood,
	"password":                appliance.FieldPassword,
	"new_password":            appliance.FieldPassword,
	"contact.phone":           appliance.FieldPhoneNumber,
	"contact.mobile":          appliance.FieldMobile,
	"contact.email":           appliance.FieldEmail,
	"contact.backup_email":    appliance.FieldBackupEmail,
	"code":                    appliance.FieldCode,
	"current_password":        appliance.FieldCurrentPassword,
	"mobile":                  appliance.FieldMobile,
	"email":                   appliance.FieldEmail,
	"backup_email":            appliance.FieldBackupEmail,
}

// wizardError turns the client's error into the wizard's: an
// *appliance.UpstreamError for an answer the person can act on, or one
// wrapping appliance.ErrUnavailable. It names the operation and keeps the
// client's error wrapped.
func wizardError(op string, err error) error {
	if err == nil {
		return nil
	}
	var ue *upstream.Error
	if !errors.As(err, &ue) || errors.Is(err, upstream.ErrUnavailable) {
		return fmt.Errorf("upstream %s: %w: %w", op, appliance.ErrUnavailable, err)
	}
	kind, ok := kinds[ue.Code]
	if !ok {
		kind = appliance.KindRejected
	}
	we := &appliance.UpstreamError{Kind: kind}
	for _, f := range ue.Fields {
		id, ok := fields[f.Field]
		if !ok {
			if strings.HasPrefix(f.Field, "contact.phone") || strings.HasPrefix(f.Field, "phone") {
				id = appliance.FieldPhoneNumber
			} else {
				id = appliance.FieldCard // the card's data, the kiosk id, the terms: nothing to type
			}
		}
		we.Fields = append(we.Fields, appliance.FieldProblem{Field: id, Code: f.Code})
	}
	return fmt.Errorf("upstream %s: %w", op, we)
}
