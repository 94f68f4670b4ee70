package appliance

import (
	"strings"

	"github.com/nhikiosk/nhikiosk/rules"
)

// The contact rules (phone, mobile, e-mail) move into package rules with the
// upstream (issue 5); until they are in main these local checks keep the
// same codes.

func checkPhoneArea(_ *person, v string) error {
	if v == "" {
		return ruleError(rules.CodeRequired, "the contact phone needs an area code")
	}
	if v[0] != '0' || len(v) < 2 {
		return ruleError(rules.CodeFormat, "an area code starts with 0")
	}
	return nil
}

func checkPhoneNumber(_ *person, v string) error {
	if v == "" {
		return ruleError(rules.CodeRequired, "the contact phone needs a number")
	}
	if len(v) < 5 {
		return ruleError(rules.CodeLength, "a phone number has 5 to 8 digits")
	}
	return nil
}

func checkMobile(_ *person, v string) error {
	if len(v) != 10 {
		return ruleError(rules.CodeLength, "a mobile number has 10 digits")
	}
	if !strings.HasPrefix(v, "09") {
		return ruleError(rules.CodeFormat, "a mobile number starts with 09")
	}
	return nil
}

func checkEmail(_ *person, v string) error {
	if v == "" {
		return ruleError(rules.CodeRequired, "an e-mail address is required")
	}
	at := strings.LastIndexByte(v, '@')
	if at < 1 || strings.Count(v, "@") != 1 || !strings.Contains(v[at+1:], ".") ||
		strings.HasPrefix(v[at+1:], ".") || strings.HasSuffix(v, ".") {
		return ruleError(rules.CodeFormat, "write the e-mail address as name@example.com")
	}
	return nil
}

func checkBackupEmail(p *person, v string) error {
	if err := checkEmail(p, v); err != nil {
		return err
	}
	if strings.EqualFold(v, p.value(FieldEmail)) {
		return ruleError("same_as_primary", "the backup e-mail must differ from the primary one")
	}
	return nil
}
