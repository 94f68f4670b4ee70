package rules

import (
	"errors"
	"testing"
)

func code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return "not *Error"
	}
	return ""
}

func TestIDNumber(t *testing.T) {
	tests := []struct {
		name, id string
		kind     IDKind
		code     string
	}{
		{"national male", "A123456789", IDNational, ""},
		{"national female", "F231413562", IDNational, ""},
		{"national I letter", "I100000003", IDNational, ""},
		{"new resident", "A800000014", IDResidentNew, ""},
		{"new resident 9", "A900000016", IDResidentNew, ""},
		{"old resident", "AA00000009", IDResidentOld, ""},
		{"old resident D", "FD12345676", IDResidentOld, ""},
		{"wrong check", "A123456788", IDUnknown, CodeCheckDigit},
		{"lower case", "a123456789", IDUnknown, CodeFormat},
		{"short", "A12345678", IDUnknown, CodeLength},
		{"empty", "", IDUnknown, CodeRequired},
		{"bad second", "A323456789", IDUnknown, CodeFormat},
		{"letter in digits", "A1234567X9", IDUnknown, CodeFormat},
		{"old resident E", "AE00000009", IDUnknown, CodeFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kind, err := IDNumber(tt.id)
			if got := code(err); got != tt.code {
				t.Errorf("IDNumber(%q) error code = %q (%v), want %q", tt.id, got, err, tt.code)
			}
			if kind != tt.kind {
				t.Errorf("IDNumber(%q) kind = %v, want %v", tt.id, kind, tt.kind)
			}
		})
	}
}

// TestIDNumberOneCheckDigit checks that for any body exactly one of the ten
// check digits is accepted.
func TestIDNumberOneCheckDigit(t *testing.T) {
	for _, body := range []string{"A12345678", "Z20000000", "AB1234567", "K81111111", "W99999999"} {
		n := 0
		for d := '0'; d <= '9'; d++ {
			if _, err := IDNumber(body + string(d)); err == nil {
				n++
			}
		}
		if n != 1 {
			t.Errorf("IDNumber(%s?) accepts %d check digits, want exactly 1", body, n)
		}
	}
}

func TestCardNumber(t *testing.T) {
	tests := []struct{ in, code string }{
		{"000012345678", ""},
		{"00001234567", CodeLength},
		{"00001234567X", CodeFormat},
		{"", CodeRequired},
	}
	for _, tt := range tests {
		if got := code(CardNumber(tt.in)); got != tt.code {
			t.Errorf("CardNumber(%q) code = %q, want %q", tt.in, got, tt.code)
		}
	}
}

func TestHouseholdNumber(t *testing.T) {
	tests := []struct{ in, code string }{
		{"F1234567", ""},
		{"AB123456", ""},
		{"12345678", CodeFormat},
		{"ABCDEFGH", CodeFormat},
		{"F123456", CodeLength},
		{"F12345A7", CodeFormat},
		{"f1234567", CodeFormat},
		{"", CodeRequired},
	}
	for _, tt := range tests {
		if got := code(HouseholdNumber(tt.in)); got != tt.code {
			t.Errorf("HouseholdNumber(%q) code = %q, want %q", tt.in, got, tt.code)
		}
	}
}

func TestPassword(t *testing.T) {
	tests := []struct {
		in, code string
		strength Strength
	}{
		{"kwpmzt", "", Weak},
		{"kwp739", "", Medium},
		{"Kwp739", "", MediumStrong},
		{"Kwp73!", "", MediumStrong},
		{"Kwp73!xy", "", Strong},
		{"KWPMZTRB", "", Weak},
		// The blocklist and its patterns (issue 13: 111111 and password
		// were accepted): weak whatever their mix.
		{"111111", CodeCommon, Weak},
		{"password", CodeCommon, Weak},
		{"Password1!", CodeCommon, Weak},
		{"P@ssw0rd2024", CodeCommon, Weak},
		{"abcdef", CodeCommon, Weak},
		{"ABCDEFGH", CodeCommon, Weak},
		{"Abc123", CodeCommon, Weak},
		{"a123456", CodeCommon, Weak},
		{"abc", CodeLength, Weak},
		{"abcdefghijklm", CodeLength, Weak},
		{"abc def", CodeCharacters, Medium},
		{"密碼密碼", CodeCharacters, Weak},
		{"", CodeRequired, Weak},
	}
	for _, tt := range tests {
		if got := code(Password(tt.in)); got != tt.code {
			t.Errorf("Password(%q) code = %q, want %q", tt.in, got, tt.code)
		}
		if got := PasswordStrength(tt.in); got != tt.strength {
			t.Errorf("PasswordStrength(%q) = %v, want %v", tt.in, got, tt.strength)
		}
	}
}

func TestCommonPassword(t *testing.T) {
	for _, tt := range []struct {
		in     string
		common bool
	}{
		{"123456", true}, {"12345678", true}, {"987654", true}, {"qwerty", true}, {"QWERTY", true},
		{"1qaz2wsx", true}, {"zxcvbnm", true}, {"aaaaaa", true}, {"abcabc", true}, {"12121212", true},
		{"fedcba", true}, {"5201314", true}, {"woaini1314", true}, {"iloveyou!", true}, {"Welcome1", true},
		{"aa123456", true}, {"Qwerty2024!", true}, {"!@#$%^", true}, {"nhikiosk1", true}, {"Tr0ub4dor", false},
		{"Test1!pw", false}, {"Kiosk1!pw", false}, {"Reset2#pw", false}, {"Zq7!kP2x", false}, {"mY9$cat4", false},
		{"abc", false}, {"", false},
	} {
		if got := CommonPassword(tt.in); got != tt.common {
			t.Errorf("CommonPassword(%q) = %v, want %v", tt.in, got, tt.common)
		}
		if got := CommonPassword([]byte(tt.in)); got != tt.common {
			t.Errorf("CommonPassword([]byte(%q)) = %v, want %v", tt.in, got, tt.common)
		}
	}
}

func TestPasswordGrade(t *testing.T) {
	for _, tt := range []struct {
		in     string
		grade  Strength
		reason string
	}{
		{"Password1!", Weak, ReasonCommon},
		{"Kwp73!xy", Strong, ReasonNone},
		{"kwpmzt", Weak, ReasonNone},
	} {
		g, why := PasswordGrade([]byte(tt.in))
		if g != tt.grade || why != tt.reason {
			t.Errorf("PasswordGrade(%q) = %v, %q, want %v, %q", tt.in, g, why, tt.grade, tt.reason)
		}
	}
}

func TestText(t *testing.T) {
	for _, tt := range []struct{ name, in, code string }{
		{"chinese name", "測試一", ""},
		{"with middle dot", "帕蘇拉·達給", ""},
		{"latin with space", "Test One", ""},
		{"empty", "", CodeRequired},
		{"only spaces", "   ", CodeRequired},
		{"only ideographic spaces", "\u3000\u3000", CodeRequired},
		{"only zero-width", "\u200b\u200c\u200d", CodeCharacters},
		{"NUL", "測試\x00一", CodeCharacters},
		{"CR LF", "測試\r\n一", CodeCharacters},
		{"ANSI escape", "\x1b[31m測試", CodeCharacters},
		{"RLO", "測試\u202e一", CodeCharacters},
		{"BOM", "\ufeff測試", CodeCharacters},
		{"line separator", "測試\u2028一", CodeCharacters},
		{"replacement character", "測試\ufffd", CodeCharacters},
		{"invalid UTF-8", "測試\xff", CodeCharacters},
		{"private use", "測試\ue000", CodeCharacters},
		{"too long", "測測測測測測測測測測測", CodeLength},
		{"ten", "測測測測測測測測測測", ""},
	} {
		if got := code(Text(tt.in, 10)); got != tt.code {
			t.Errorf("%s: Text(%q, 10) code = %q, want %q", tt.name, tt.in, got, tt.code)
		}
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"測試一", "  ", "\u202e", "a\x00b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if Text(s, 40) != nil {
			return
		}
		for _, r := range s {
			if r < 0x20 || r == 0x7f || r == 0x202e || r == 0x200b || r == 0xfffd {
				t.Fatalf("Text(%q) accepted U+%04X", s, r)
			}
		}
	})
}

func FuzzCommonPassword(f *testing.F) {
	for _, s := range []string{"Password1!", "123456", "Zq7!kP2x", "aaaaaaaaaaaa"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CommonPassword(s) != CommonPassword([]byte(s)) {
			t.Fatalf("CommonPassword(%q) differs for string and bytes", s)
		}
		if g, why := PasswordGrade(s); why == ReasonCommon && g != Weak {
			t.Fatalf("PasswordGrade(%q) = %v for a common password", s, g)
		}
	})
}

func TestErrorsHoldNoValue(t *testing.T) {
	for _, err := range []error{
		func() error { _, e := IDNumber("A123456788"); return e }(),
		CardNumber("12345"), HouseholdNumber("F12345A7"), Password("abc def"),
	} {
		for _, v := range []string{"A123456788", "12345", "F12345A7", "abc def"} {
			if err != nil && contains(err.Error(), v) {
				t.Errorf("error %q contains the checked value", err)
			}
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func FuzzIDNumber(f *testing.F) {
	for _, s := range []string{"A123456789", "AA00000009", "A800000014", "", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, err := IDNumber(s)
		if (err == nil) != (kind != IDUnknown) {
			t.Fatalf("IDNumber(%q) = %v, %v: kind and error disagree", s, kind, err)
		}
	})
}

func TestNewPassword(t *testing.T) {
	for _, tt := range []struct{ cur, next, code string }{
		{"Test1!pw", "New1!pass", ""},
		{"Test1!pw", "Test1!pw", CodeSameAsOld},
		{"Test1!pw", "abc", CodeLength},
		{"Test1!pw", "", CodeRequired},
		{"", "New1!pass", ""},
	} {
		err := NewPassword(tt.cur, tt.next)
		var code string
		if e, ok := err.(*Error); ok {
			code = e.Code
		} else if err != nil {
			t.Fatalf("NewPassword: %T %v", err, err)
		}
		if code != tt.code {
			t.Errorf("NewPassword(%q, %q) code %q, want %q", tt.cur, tt.next, code, tt.code)
		}
	}
}
