package appliance

import "github.com/nhikiosk/nhikiosk/rules"

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
