package appliance

import (
	"errors"
	"strings"

	"github.com/nhikiosk/nhikiosk/rules"
)

// FieldID names a field the person fills in. The same names are used as
// widget ids (prefixed "field."), in upstream field errors and as message
// catalog keys.
type FieldID string

// Fields of the wizard.
const (
	FieldHousehold     FieldID = "household"
	FieldNeighbourhood FieldID = "neighbourhood"
	FieldPassword      FieldID = "password"
	FieldPassword2     FieldID = "password2"
	FieldPhoneArea     FieldID = "phone_area"
	FieldPhoneNumber   FieldID = "phone_number"
	FieldPhoneExt      FieldID = "phone_ext"
	FieldMobile        FieldID = "mobile"
	FieldEmail         FieldID = "email"
	FieldBackupEmail   FieldID = "backup_email"
	FieldCode          FieldID = "code"
	// FieldAddress is the division choice; it has no text of its own.
	FieldAddress FieldID = "address"
	// FieldCard stands for the card's data in upstream errors.
	FieldCard FieldID = "card"
)

// Keyboard is the on-screen keyboard a field takes its characters from. No
// field needs Chinese typing.
type Keyboard string

// Keyboards.
const (
	KeyboardNumeric   Keyboard = "numeric"   // 0–9
	KeyboardHousehold Keyboard = "household" // A–Z and 0–9
	KeyboardPassword  Keyboard = "password"  // printable ASCII with shift
	KeyboardEmail     Keyboard = "email"     // a–z, 0–9 and . @ _ - +
)

// fieldSpec says how a field is typed and checked.
type fieldSpec struct {
	max      int
	keyboard Keyboard
	secret   bool // drawn as dots
	optional bool
	// check returns a *rules.Error, or nil. p gives the other fields, for
	// rules that compare two.
	check func(p *person, v string) error
}

var fieldSpecs = map[FieldID]fieldSpec{
	FieldHousehold: {max: 8, keyboard: KeyboardHousehold,
		check: func(_ *person, v string) error { return rules.HouseholdNumber(v) }},
	FieldNeighbourhood: {max: 3, keyboard: KeyboardNumeric, check: checkNeighbourhood},
	FieldPassword: {max: rules.PasswordMax, keyboard: KeyboardPassword, secret: true,
		check: func(_ *person, v string) error { return rules.Password(v) }},
	FieldPassword2:   {max: rules.PasswordMax, keyboard: KeyboardPassword, secret: true, check: checkConfirm},
	FieldPhoneArea:   {max: 4, keyboard: KeyboardNumeric, check: checkPhoneArea},
	FieldPhoneNumber: {max: 8, keyboard: KeyboardNumeric, check: checkPhoneNumber},
	FieldPhoneExt:    {max: rules.ExtensionMax, keyboard: KeyboardNumeric, optional: true},
	FieldMobile:      {max: 10, keyboard: KeyboardNumeric, check: checkMobile},
	FieldEmail:       {max: 100, keyboard: KeyboardEmail, check: checkEmail},
	FieldBackupEmail: {max: 100, keyboard: KeyboardEmail, optional: true, check: checkBackupEmail},
	FieldCode:        {max: 6, keyboard: KeyboardNumeric, check: checkCode},
}

// Error codes of the wizard's own rules, beside those of package rules.
const (
	codeMismatch = "mismatch"
	codeRange    = "range"
)

func ruleError(code, reason string) error { return &rules.Error{Code: code, Reason: reason} }

func checkNeighbourhood(_ *person, v string) error {
	if v == "" {
		return ruleError(rules.CodeRequired, "the neighbourhood is required")
	}
	if strings.TrimLeft(v, "0") == "" {
		return ruleError(codeRange, "a neighbourhood number starts at 1")
	}
	return nil
}

func checkConfirm(p *person, v string) error {
	if v == "" {
		return ruleError(rules.CodeRequired, "type the password again")
	}
	if v != p.value(FieldPassword) {
		return ruleError(codeMismatch, "the two passwords differ")
	}
	return nil
}

func checkCode(_ *person, v string) error {
	if v == "" {
		return ruleError(rules.CodeRequired, "the code is required")
	}
	if len(v) != 6 {
		return ruleError(rules.CodeLength, "the code has 6 digits")
	}
	return nil
}

// checkField checks f's current value; an empty optional field is fine.
func checkField(p *person, f FieldID) string {
	spec := fieldSpecs[f]
	v := p.value(f)
	if spec.check == nil || (v == "" && spec.optional) {
		return ""
	}
	if err := spec.check(p, v); err != nil {
		var re *rules.Error
		if errors.As(err, &re) {
			return re.Code
		}
		return rules.CodeFormat
	}
	return ""
}

// accepts reports whether keyboard k may type character c into a field.
func (k Keyboard) accepts(c byte) bool {
	digit := c >= '0' && c <= '9'
	switch k {
	case KeyboardNumeric:
		return digit
	case KeyboardHousehold:
		return digit || (c >= 'A' && c <= 'Z')
	case KeyboardPassword:
		return c >= 0x21 && c <= 0x7e
	case KeyboardEmail:
		return digit || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || strings.IndexByte(".@_-+", c) >= 0
	}
	return false
}

// normalize turns what an on-screen keyboard typed into what the field
// holds: the household number's letters are capitals whatever the shift
// key said.
func (k Keyboard) normalize(c byte) byte {
	if k == KeyboardHousehold && c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// microsoftDomains may not receive the NHI's mail (the website warns too).
var microsoftDomains = []string{"hotmail.", "outlook.", "live.", "msn."}

// microsoftMail reports whether the e-mail address is at a Microsoft mail
// domain.
func microsoftMail(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	d := strings.ToLower(addr[at+1:])
	for _, m := range microsoftDomains {
		if strings.HasPrefix(d, m) || strings.Contains(d, "."+m) {
			return true
		}
	}
	return false
}

// The contact fields are checked by package rules, as the upstream checks
// them. The contact phone is one rule over three fields: its verdict is
// shown under the number, except a wrong area code, shown under that.

func checkPhoneArea(_ *person, v string) error {
	if v == "" {
		return ruleError(rules.CodeRequired, "the contact phone needs an area code")
	}
	if v[0] != '0' || len(v) < 2 {
		return ruleError(rules.CodeFormat, "an area code starts with 0")
	}
	return nil
}

func checkPhoneNumber(p *person, v string) error {
	if v == "" {
		return ruleError(rules.CodeRequired, "the contact phone needs a number")
	}
	if checkPhoneArea(p, p.value(FieldPhoneArea)) != nil {
		return nil // said under the area code
	}
	return rules.ContactPhone(p.value(FieldPhoneArea), v, p.value(FieldPhoneExt))
}

func checkMobile(_ *person, v string) error { return rules.Mobile(v) }

func checkEmail(_ *person, v string) error { return rules.Email(v) }

func checkBackupEmail(p *person, v string) error { return rules.BackupEmail(p.value(FieldEmail), v) }
