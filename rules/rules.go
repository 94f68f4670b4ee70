// Package rules owns the rules a registration's fields must follow: the
// Taiwan ID number's check digit, the NHI card number, the household number,
// the registration password and its strength, the contact phone, mobile
// and e-mail addresses. The kiosk checks them as the
// person types and the upstream enforces the same ones, from this one
// package, so the two can never disagree.
//
// It is pure: no I/O, no logging, nothing of ours imported. Error values
// never contain the value checked, so they are safe to log.
package rules

import "fmt"

// Error is a broken rule: a stable Code for programs and message catalogs
// (e.g. "check_digit") and a Reason in plain English. It never holds the
// value that was checked.
type Error struct {
	Code   string
	Reason string
}

func (e *Error) Error() string { return e.Reason }

// Codes of broken rules.
const (
	CodeRequired   = "required"
	CodeFormat     = "format"
	CodeCheckDigit = "check_digit"
	CodeLength     = "length"
	CodeCharacters = "characters"
	CodeSameAsOld  = "same_as_old"
	// CodeCommon: a password on the blocklist of the most common ones, or
	// one built only from a trivial pattern (NIST SP 800-63B §5.1.1.2).
	CodeCommon = "common"
)

func fail(code, format string, args ...any) error {
	return &Error{Code: code, Reason: fmt.Sprintf(format, args...)}
}
