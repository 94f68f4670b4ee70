package rules

import (
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Codes of broken contact rules, beside those in rules.go.
const (
	CodeInvalidNumber = "invalid_number"  // not a number in Taiwan's numbering plan
	CodeSameAsPrimary = "same_as_primary" // the backup e-mail repeats the primary one
)

// ExtensionMax is the longest extension a contact phone may carry.
const ExtensionMax = 6

// ContactPhone checks a contact phone written as the website asks for it:
// an area code with its leading 0 (e.g. "02", "049", "0836"), the number,
// and an optional extension of up to 6 digits. The area code and number
// together must be a valid Taiwan number in libphonenumber's metadata
// (github.com/nyaruka/phonenumbers), so a Taipei number with a digit too
// few, or an area code that does not exist, is refused.
func ContactPhone(areaCode, number, extension string) error {
	if areaCode == "" && number == "" {
		return fail(CodeRequired, "the contact phone is required")
	}
	if !allDigits(areaCode) || !allDigits(number) || areaCode == "" || number == "" || areaCode[0] != '0' {
		return fail(CodeFormat, "a contact phone is an area code starting with 0 and a number, digits only")
	}
	if len(areaCode)+len(number) > 12 {
		return fail(CodeLength, "a contact phone has at most 12 digits with its area code")
	}
	if extension != "" && (!allDigits(extension) || len(extension) > ExtensionMax) {
		return fail(CodeFormat, "an extension has 1 to %d digits", ExtensionMax)
	}
	n, err := phonenumbers.Parse(areaCode+number, "TW")
	if err != nil || !phonenumbers.IsValidNumberForRegion(n, "TW") {
		return fail(CodeInvalidNumber, "this is not a valid Taiwan phone number; check the area code and the number")
	}
	return nil
}

// Mobile checks a Taiwan mobile number: 09 and eight more digits.
func Mobile(s string) error {
	if s == "" {
		return fail(CodeRequired, "the mobile number is required")
	}
	if !allDigits(s) {
		return fail(CodeFormat, "a mobile number has only digits")
	}
	if len(s) != 10 {
		return fail(CodeLength, "a mobile number has 10 digits")
	}
	if !strings.HasPrefix(s, "09") {
		return fail(CodeFormat, "a mobile number starts with 09")
	}
	return nil
}

// E-mail limits of RFC 5321 §4.5.3.1: a path of 256 octets with its
// angle brackets, so an address of 254, a local part of 64.
const (
	EmailMax      = 254
	EmailLocalMax = 64
)

// Email checks an e-mail address: a bare addr-spec (RFC 5322, no display
// name) of printable ASCII (nhisim's relay speaks plain SMTP, without
// SMTPUTF8), within RFC 5321's limits, whose domain is a host name with
// at least one dot (no IP literal, no bare "localhost"), so the
// confirmation can be delivered.
func Email(s string) error {
	if s == "" {
		return fail(CodeRequired, "an e-mail address is required")
	}
	if len(s) > EmailMax {
		return fail(CodeLength, "an e-mail address has at most %d characters", EmailMax)
	}
	for i := range len(s) {
		if s[i] <= ' ' || s[i] > '~' {
			return fail(CodeCharacters, "an e-mail address has only letters, digits and the symbols of an address, no spaces")
		}
	}
	if at := strings.LastIndexByte(s, '@'); at > EmailLocalMax {
		return fail(CodeLength, "the part before @ has at most %d characters", EmailLocalMax)
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return fail(CodeFormat, "write the e-mail address as name@example.com")
	}
	at := strings.LastIndexByte(s, '@')
	if !hostName(s[at+1:]) {
		return fail(CodeFormat, "the part after @ must be a domain such as example.com")
	}
	return nil
}

// BackupEmail checks the optional backup e-mail: empty, or a valid address
// that is not the primary one (compared without regard to case).
func BackupEmail(primary, backup string) error {
	if backup == "" {
		return nil
	}
	if err := Email(backup); err != nil {
		return err
	}
	if strings.EqualFold(primary, backup) {
		return fail(CodeSameAsPrimary, "the backup e-mail must differ from the primary one")
	}
	return nil
}

// hostName reports whether d is a DNS name with at least two labels of
// letters, digits and inner hyphens, and a top-level label that is not all
// digits.
func hostName(d string) bool {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := range len(l) {
			c := l[i] | 0x20
			if !(c >= 'a' && c <= 'z') && !isDigit(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return !allDigits(labels[len(labels)-1])
}

func allDigits(s string) bool {
	for i := range len(s) {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
