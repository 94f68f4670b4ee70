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
		{"abcdef", "", Weak},
		{"abc123", "", Medium},
		{"Abc123", "", MediumStrong},
		{"Abc12!", "", MediumStrong},
		{"Abc12!xy", "", Strong},
		{"ABCDEFGH", "", Weak},
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
