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
	termsCache     = "terms.json"
	divisionsCache = "divisions.json"
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

// Divisions returns the county → township → village tree. The upstream
// names divisions by their Chinese names, which serve as their codes.
func (u Upstream) Divisions(ctx context.Context) ([]appliance.Division, error) {
	d, err := u.Client.Divisions(ctx)
	if err == nil {
		u.keep(divisionsCache, d)
	} else if load(u.CacheDir, divisionsCache, &d) {
		err = nil
	}
	if err != nil {
		return nil, wizardError("divisions", err)
	}
	out := make([]appliance.Division, 0, len(d.Counties))
	for _, c := range d.Counties {
		cd := appliance.Division{Code: c.Name, Zh: c.Name}
		for _, t := range c.Townships {
			td := appliance.Division{Code: t.Name, Zh: t.Name}
			for _, v := range t.Villages {
				td.Children = append(td.Children, appliance.Division{Code: v, Zh: v})
			}
			cd.Children = append(cd.Children, td)
		}
		out = append(out, cd)
	}
	return out, nil
}

// Register submits r; an unreachable upstream leaves it in the client's
// outbox and the receipt says Queued.
func (u Upstream) Register(ctx context.Context, r appliance.Registration) (appliance.Receipt, error) {
	res, err := u.Client.Register(ctx, upstream.Registration{
		CardNumber: r.CardNumber, IDNumber: r.IDNumber, Name: r.Name, BirthDate: r.BirthDate,
		Household: upstream.Household{Number: r.Household, County: r.County, Township: r.Township,
			Village: r.Village, Neighbourhood: r.Neighbourhood},
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
