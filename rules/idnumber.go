package rules

// IDKind is the kind of a Taiwan identity number.
type IDKind int

// Kinds of identity number an NHI card can carry.
const (
	IDUnknown     IDKind = iota
	IDNational           // national ID: letter, 1 or 2, 8 digits
	IDResidentOld        // resident certificate before 2021: two letters, 8 digits
	IDResidentNew        // resident certificate since 2021: letter, 8 or 9, 8 digits
)

func (k IDKind) String() string {
	switch k {
	case IDNational:
		return "national ID"
	case IDResidentOld:
		return "resident certificate (old format)"
	case IDResidentNew:
		return "resident certificate (new format)"
	}
	return "unknown"
}

// letterCodes are the two-digit codes of the first letter (household
// registration area); I, O, W, X, Y, Z are out of alphabetical order.
var letterCodes = [26]int{
	10, 11, 12, 13, 14, 15, 16, 17, 34, 18, 19, 20, 21,
	22, 35, 23, 24, 25, 26, 27, 28, 29, 32, 30, 31, 33,
}

// IDNumber checks a Taiwan identity number (10 characters, upper case) and
// reports its kind: the national ID and both resident certificate formats
// share one weighted check digit.
func IDNumber(s string) (IDKind, error) {
	if s == "" {
		return IDUnknown, fail(CodeRequired, "the ID number is required")
	}
	if len(s) != 10 {
		return IDUnknown, fail(CodeLength, "an ID number has 10 characters")
	}
	if !isUpper(s[0]) {
		return IDUnknown, fail(CodeFormat, "an ID number starts with a capital letter")
	}
	for i := 2; i < 10; i++ {
		if !isDigit(s[i]) {
			return IDUnknown, fail(CodeFormat, "an ID number ends with 8 digits")
		}
	}
	var kind IDKind
	var second int
	switch c := s[1]; {
	case c == '1' || c == '2':
		kind, second = IDNational, int(c-'0')
	case c == '8' || c == '9':
		kind, second = IDResidentNew, int(c-'0')
	case c >= 'A' && c <= 'D':
		// The old resident certificate's second letter counts as the last
		// digit of its letter code (A=10 → 0 … D=13 → 3).
		kind, second = IDResidentOld, letterCodes[c-'A']%10
	default:
		return IDUnknown, fail(CodeFormat, "the second character of an ID number is 1, 2, 8, 9 or A–D")
	}
	code := letterCodes[s[0]-'A']
	sum := code/10 + code%10*9 + second*8
	for i, w := 2, 7; i < 9; i, w = i+1, w-1 {
		sum += int(s[i]-'0') * w
	}
	sum += int(s[9] - '0')
	if sum%10 != 0 {
		return IDUnknown, fail(CodeCheckDigit, "the ID number's check digit does not match; check it was typed correctly")
	}
	return kind, nil
}

// CardNumber checks an NHI card number: 12 digits.
func CardNumber(s string) error {
	if s == "" {
		return fail(CodeRequired, "the card number is required")
	}
	if len(s) != 12 {
		return fail(CodeLength, "an NHI card number has 12 digits")
	}
	for i := range len(s) {
		if !isDigit(s[i]) {
			return fail(CodeFormat, "an NHI card number has only digits")
		}
	}
	return nil
}

// HouseholdNumber checks a household number (戶號): 8 characters, capital
// letters then digits, normally one letter and seven digits.
func HouseholdNumber(s string) error {
	if s == "" {
		return fail(CodeRequired, "the household number is required")
	}
	if len(s) != 8 {
		return fail(CodeLength, "a household number has 8 characters")
	}
	i := 0
	for i < len(s) && isUpper(s[i]) {
		i++
	}
	if i == 0 {
		return fail(CodeFormat, "a household number starts with a letter")
	}
	if i == len(s) {
		return fail(CodeFormat, "a household number ends with digits")
	}
	for ; i < len(s); i++ {
		if !isDigit(s[i]) {
			return fail(CodeFormat, "a household number is letters then digits")
		}
	}
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
