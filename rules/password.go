package rules

// Password length bounds of the registration password.
const (
	PasswordMin = 6
	PasswordMax = 12
)

// Password checks a registration password: 6 to 12 printable ASCII
// characters without spaces, and not a common one (CommonPassword).
func Password(s string) error {
	if s == "" {
		return fail(CodeRequired, "a password is required")
	}
	for i := range len(s) {
		if s[i] < 0x21 || s[i] > 0x7e {
			return fail(CodeCharacters, "a password uses only letters, digits and symbols such as !@#$%%^&*, no spaces")
		}
	}
	if len(s) < PasswordMin || len(s) > PasswordMax {
		return fail(CodeLength, "a password has %d to %d characters", PasswordMin, PasswordMax)
	}
	if CommonPassword(s) {
		return fail(CodeCommon, "this password is one of the most common ones, or a simple pattern; choose another")
	}
	return nil
}

// NewPassword checks a new registration password against the rules and
// against the current one: it must differ (註冊密碼變更).
func NewPassword(current, next string) error {
	if err := Password(next); err != nil {
		return err
	}
	if next == current {
		return fail(CodeSameAsOld, "the new password must differ from the current one")
	}
	return nil
}

// Strength grades a password as the NHI website's meter does.
type Strength int

// Strengths, weakest first.
const (
	Weak Strength = iota
	Medium
	MediumStrong
	Strong
)

// Key returns a message catalog key for the strength.
func (s Strength) Key() string {
	return [...]string{"password.weak", "password.medium", "password.medium_strong", "password.strong"}[s]
}

func (s Strength) String() string {
	return [...]string{"weak", "medium", "medium-strong", "strong"}[s]
}

// PasswordStrength grades s: strong mixes upper and lower case letters,
// digits and symbols and is at least 8 long; each kind missing, or a short
// password, grades it lower; a common password (CommonPassword) is weak
// whatever its mix, and PasswordGrade says so. It takes the display's
// byte slices as they are, so a password need never be copied into a
// string that cannot be zeroed.
func PasswordStrength[T ~string | ~[]byte](s T) Strength {
	g, _ := PasswordGrade(s)
	return g
}

// mixStrength grades s by its length and kinds of characters.
func mixStrength[T ~string | ~[]byte](s T) Strength {
	var upper, lower, digit, symbol bool
	for i := range len(s) {
		switch c := s[i]; {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			symbol = true
		}
	}
	kinds := 0
	for _, k := range []bool{upper, lower, digit, symbol} {
		if k {
			kinds++
		}
	}
	switch {
	case len(s) < PasswordMin || kinds <= 1:
		return Weak
	case kinds == 4 && len(s) >= 8:
		return Strong
	case kinds >= 3:
		return MediumStrong
	default:
		return Medium
	}
}
