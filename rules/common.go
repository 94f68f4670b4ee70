package rules

import (
	"bytes"
	_ "embed"
	"strings"
)

//go:embed common-passwords.txt
var commonFile string

// common is the blocklist, lower case.
var common = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, l := range strings.Split(commonFile, "\n") {
		if l = strings.TrimSpace(l); l != "" && l[0] != '#' {
			m[l] = struct{}{}
		}
	}
	return m
}()

// keyboard holds the rows and columns people walk on a QWERTY keyboard,
// each also reversed: a password inside one is a keyboard walk.
var keyboard = func() [][]byte {
	var out [][]byte
	for _, r := range []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
		"qazwsxedcrfvtgbyhnujmikolp", "!@#$%^&*()"} {
		b := []byte(r)
		out = append(out, b)
		rev := bytes.Clone(b)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		out = append(out, rev)
	}
	return out
}()

// Affix bounds of CommonPassword: a common core with up to this many
// characters before and after it is still common ("a123456",
// "Password1!").
const (
	commonPrefixMax = 3
	commonSuffixMax = 5
	commonCoreMin   = 4
)

// CommonPassword reports whether s is a password an attacker tries
// first (NIST SP 800-63B §5.1.1.2): on the blocklist of the most common
// passwords (common-passwords.txt, compared without regard to case),
// one repeated character or unit ("aaaaaa", "abcabc", "12121212"), a
// run ("123456", "fedcba"), a keyboard walk ("qwerty", "1qaz2wsx"), or
// one of these with a short prefix or suffix and the usual letter-digit
// swaps ("a123456", "P@ssw0rd2024"). Like PasswordStrength it takes the
// display's bytes as they are and copies them only into buffers on its
// own stack that it zeroes.
func CommonPassword[T ~string | ~[]byte](s T) bool {
	if len(s) < PasswordMin || len(s) > 2*PasswordMax {
		return false
	}
	var low, plain [2 * PasswordMax]byte
	defer clear(low[:])
	defer clear(plain[:])
	n := len(s)
	for i := range n {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
		plain[i] = unLeet(c)
	}
	l, p := low[:n], plain[:n]
	for i := 0; i <= min(commonPrefixMax, n); i++ {
		for j := n; j >= max(i, n-commonSuffixMax); j-- {
			if j-i < commonCoreMin {
				break
			}
			if listed(l[i:j]) || listed(p[i:j]) {
				return true
			}
			if j-i >= PasswordMin-1 && trivial(l[i:j]) {
				return true
			}
		}
	}
	return false
}

// listed looks b up in the blocklist (without allocating).
func listed(b []byte) bool {
	_, ok := common[string(b)]
	return ok
}

// unLeet undoes the usual swaps of letters for digits and symbols.
func unLeet(c byte) byte {
	switch c {
	case '@', '4':
		return 'a'
	case '0':
		return 'o'
	case '1', '!':
		return 'i'
	case '3':
		return 'e'
	case '$', '5':
		return 's'
	case '7':
		return 't'
	}
	return c
}

// trivial reports whether b is a repeated unit, a run up or down, or a
// keyboard walk.
func trivial(b []byte) bool {
	for u := 1; u <= len(b)/2; u++ {
		if len(b)%u != 0 {
			continue
		}
		rep := true
		for i := u; i < len(b) && rep; i++ {
			rep = b[i] == b[i-u]
		}
		if rep {
			return true
		}
	}
	up, down := true, true
	for i := 1; i < len(b); i++ {
		up = up && b[i] == b[i-1]+1
		down = down && b[i] == b[i-1]-1
	}
	if up || down {
		return true
	}
	for _, k := range keyboard {
		if bytes.Contains(k, b) {
			return true
		}
	}
	return false
}

// Reasons a password grades weak whatever its mix of characters, for
// the strength meter to say why (PasswordGrade).
const (
	ReasonNone   = ""
	ReasonCommon = CodeCommon // on the blocklist or a trivial pattern
)

// PasswordGrade grades s as PasswordStrength does and says why a
// password that would otherwise grade higher is weak: ReasonCommon for
// a common password, which the rules refuse whatever its mix.
func PasswordGrade[T ~string | ~[]byte](s T) (Strength, string) {
	if CommonPassword(s) {
		return Weak, ReasonCommon
	}
	return mixStrength(s), ReasonNone
}
