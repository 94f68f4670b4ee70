package upstream

import (
	"errors"
	"time"
	"unicode/utf8"

	"github.com/nhikiosk/nhikiosk/rules"
)

// Field limits beyond package rules.
const (
	NameMaxRunes     = 40
	NeighbourhoodMax = 999
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
// calls it again; only the division lookup and the terms version are left
// to the server. now is used for the birth date.
func (r Registration) Validate(now time.Time) []FieldError {
	var f fields
	f.check("card_number", rules.CardNumber(r.CardNumber))
	_, err := rules.IDNumber(r.IDNumber)
	f.check("id_number", err)
	switch n := utf8.RuneCountInString(r.Name); {
	case r.Name == "":
		f.add("name", rules.CodeRequired, "the name is required")
	case n > NameMaxRunes || !utf8.ValidString(r.Name):
		f.add("name", rules.CodeLength, "a name has at most 40 characters")
	}
	if r.BirthDate == "" {
		f.add("birth_date", rules.CodeRequired, "the birth date is required")
	} else if d, err := time.Parse(time.DateOnly, r.BirthDate); err != nil || d.After(now) || d.Year() < 1880 {
		f.add("birth_date", rules.CodeFormat, "a birth date is YYYY-MM-DD and in the past")
	}
	h := r.Household
	f.check("household.number", rules.HouseholdNumber(h.Number))
	for _, p := range []struct{ field, v string }{
		{"household.county", h.County}, {"household.township", h.Township}, {"household.village", h.Village},
	} {
		if p.v == "" {
			f.add(p.field, rules.CodeRequired, "choose it from the list")
		}
	}
	if h.Neighbourhood < 1 || h.Neighbourhood > NeighbourhoodMax {
		f.add("household.neighbourhood", rules.CodeFormat, "a neighbourhood (鄰) number is 1 to 999")
	}
	f.check("password", rules.Password(r.Password))
	c := r.Contact
	f.check("contact.phone", rules.ContactPhone(c.Phone.AreaCode, c.Phone.Number, c.Phone.Extension))
	f.check("contact.mobile", rules.Mobile(c.Mobile))
	f.check("contact.email", rules.Email(c.Email))
	f.check("contact.backup_email", rules.BackupEmail(c.Email, c.BackupEmail))
	if r.TermsVersion == "" {
		f.add("terms_version", rules.CodeRequired, "the person must accept the current terms")
	}
	if r.KioskID == "" {
		f.add("kiosk_id", rules.CodeRequired, "the kiosk id is required")
	}
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
