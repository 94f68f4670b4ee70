package upstream

import (
	"errors"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/divisions"
	"github.com/nhikiosk/nhikiosk/rules"
)

// Field limits beyond package rules: every string of the API is bounded
// (issue 13 found a kiosk_id of 60,000 characters accepted).
const (
	NameMaxRunes      = 40
	NeighbourhoodMax  = 999
	DivisionMaxRunes  = 20 // a county, township or village name
	KioskIDMaxBytes   = 63 // as config's kiosk_id
	TermsVersionMax   = 32
	PasswordMaxBytes  = 72 // what bcrypt reads; the rules allow 12, a login may send an old longer one
	DeviceIDMaxBytes  = 64
	BindingIDMaxBytes = 64
)

// fields collects field errors.
type fields []FieldError

func (f *fields) check(field string, err error) {
	if err == nil {
		return
	}
	var re *rules.Error
	if errors.As(err, &re) {
		*f = append(*f, FieldError{Field: field, Code: re.Code, Message: re.Reason})
		return
	}
	*f = append(*f, FieldError{Field: field, Code: rules.CodeFormat, Message: err.Error()})
}

func (f *fields) add(field, code, msg string) {
	*f = append(*f, FieldError{Field: field, Code: code, Message: msg})
}

// Validate checks every field of r by the shared rules and returns every
// problem (nil if none). The kiosk calls it before sending and the server
// calls it again; only the division lookup (that the codes name a village
// of the list) and the terms version are left to the server. now is used for the birth date.
func (r Registration) Validate(now time.Time) []FieldError {
	var f fields
	f.check("card_number", rules.CardNumber(r.CardNumber))
	_, err := rules.IDNumber(r.IDNumber)
	f.check("id_number", err)
	f.check("name", rules.Text(r.Name, NameMaxRunes))
	if r.BirthDate == "" {
		f.add("birth_date", rules.CodeRequired, "the birth date is required")
	} else if d, err := time.Parse(time.DateOnly, r.BirthDate); err != nil || len(r.BirthDate) != len(time.DateOnly) || d.After(now) || d.Year() < 1880 {
		f.add("birth_date", rules.CodeFormat, "a birth date is YYYY-MM-DD and in the past")
	}
	h := r.Household
	f.check("household.number", rules.HouseholdNumber(h.Number))
	f = append(f, h.validateCodes()...)
	// The names of older kiosks' queued registrations, when there.
	for _, p := range []struct{ field, v string }{
		{"household.county", h.County}, {"household.township", h.Township}, {"household.village", h.Village},
	} {
		if p.v != "" {
			f.check(p.field, rules.Text(p.v, DivisionMaxRunes))
		}
	}
	if h.Neighbourhood < 1 || h.Neighbourhood > NeighbourhoodMax {
		f.add("household.neighbourhood", rules.CodeFormat, "a neighbourhood (鄰) number is 1 to 999")
	}
	f.check("password", rules.Password(r.Password))
	f = append(f, r.Contact.Validate("contact.")...)
	switch {
	case r.TermsVersion == "":
		f.add("terms_version", rules.CodeRequired, "the person must accept the current terms")
	case len(r.TermsVersion) > TermsVersionMax || !token(r.TermsVersion, "._-"):
		f.add("terms_version", rules.CodeFormat, "a terms version is up to 32 letters, digits, '.', '_' and '-'")
	}
	switch {
	case r.KioskID == "":
		f.add("kiosk_id", rules.CodeRequired, "the kiosk id is required")
	case len(r.KioskID) > KioskIDMaxBytes:
		f.add("kiosk_id", rules.CodeLength, "a kiosk id has at most 63 characters")
	case !token(r.KioskID, "-") || r.KioskID[0] == '-' || strings.ToLower(r.KioskID) != r.KioskID:
		f.add("kiosk_id", rules.CodeFormat, "a kiosk id is lower-case letters, digits and '-'")
	}
	return f
}

// token reports whether s has only ASCII letters, digits and the bytes
// of extra.
func token(s, extra string) bool {
	for i := range len(s) {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte(extra, c) >= 0) {
			return false
		}
	}
	return true
}

// ValidatePassword checks a password given to prove who one is (login,
// cancellation, the current password of a change): present and bounded.
// The rules for new passwords are not applied: an old password may
// predate them.
func ValidatePassword(field, pw string) []FieldError {
	var f fields
	switch {
	case pw == "":
		f.add(field, rules.CodeRequired, "the registration password is required")
	case len(pw) > PasswordMaxBytes:
		f.add(field, rules.CodeLength, "a password has at most 72 bytes")
	}
	return f
}

// Validate checks the contact data by the registration's rules; field
// paths get prefix ("contact." in a Registration, "" in a change of
// account data).
func (c Contact) Validate(prefix string) []FieldError {
	var f fields
	f.check(prefix+"phone", rules.ContactPhone(c.Phone.AreaCode, c.Phone.Number, c.Phone.Extension))
	f.check(prefix+"mobile", rules.Mobile(c.Mobile))
	f.check(prefix+"email", rules.Email(c.Email))
	f.check(prefix+"backup_email", rules.BackupEmail(c.Email, c.BackupEmail))
	return f
}

// ValidatePasswordChange checks a change of the registration password:
// the current one is given, the new one follows the rules and differs.
func ValidatePasswordChange(current, next string) []FieldError {
	f := fields(ValidatePassword("current_password", current))
	f.check("new_password", rules.NewPassword(current, next))
	return f
}

// ValidateBind checks the phone's side of a binding: an 8-digit code
// and a device name of 1 to 40 printable characters.
func ValidateBind(code, device string) []FieldError {
	var f fields
	if len(code) != BindCodeDigits {
		f.add("code", rules.CodeLength, "the binding code has 8 digits")
	} else if strings.Trim(code, "0123456789") != "" {
		f.add("code", rules.CodeFormat, "the binding code has only digits")
	}
	f.check("device_name", rules.Text(device, DeviceNameMaxRunes))
	return f
}

// ValidateIdentify checks a card number and ID number pair.
func ValidateIdentify(card, id string) []FieldError {
	var f fields
	f.check("card_number", rules.CardNumber(card))
	_, err := rules.IDNumber(id)
	f.check("id_number", err)
	return f
}

// ValidateCode checks the form of a verification code: 6 digits.
func ValidateCode(code string) []FieldError {
	var f fields
	if len(code) != CodeDigits {
		f.add("code", rules.CodeLength, "the code has 6 digits")
		return f
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			f.add("code", rules.CodeFormat, "the code has only digits")
			break
		}
	}
	return f
}

// validateCodes checks the form of the address's codes: each given, with
// its length in digits, and each starting with the one above it.
func (h Household) validateCodes() []FieldError {
	var f fields
	parent := ""
	for _, p := range []struct {
		field, v string
		n        int
	}{
		{"household.county_code", h.CountyCode, divisions.CountyCodeLen},
		{"household.township_code", h.TownshipCode, divisions.TownshipCodeLen},
		{"household.village_code", h.VillageCode, divisions.VillageCodeLen},
	} {
		switch {
		case p.v == "":
			f.add(p.field, rules.CodeRequired, "choose it from the list")
		case len(p.v) != p.n || strings.Trim(p.v, "0123456789") != "" || !strings.HasPrefix(p.v, parent):
			f.add(p.field, rules.CodeFormat, "a code from the division list")
		}
		parent = p.v
	}
	return f
}
