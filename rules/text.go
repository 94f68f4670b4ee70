package rules

import (
	"unicode"
	"unicode/utf8"
)

// Text checks a free-text field, such as a name or a device's name: 1 to
// max characters of valid UTF-8, at least one of them visible (a letter,
// digit, punctuation or symbol), and none of the characters that change
// how the text around them reads, prints or logs: control characters
// (NUL, CR, LF, the ESC of terminal escapes), format characters
// (bidirectional overrides such as U+202E, zero-width spaces and joiners,
// the byte order mark), line and paragraph separators, private-use and
// unassigned code points, and U+FFFD (what a decoder puts for bytes that
// were not UTF-8). Spaces are allowed between visible characters.
//
// Issue 13: names with NUL, CR/LF, ANSI escapes, U+202E, only spaces or
// only zero-width characters were accepted.
func Text(s string, max int) error {
	if s == "" {
		return fail(CodeRequired, "this is required")
	}
	if len(s) > utf8.UTFMax*max {
		return fail(CodeLength, "this has at most %d characters", max)
	}
	if !utf8.ValidString(s) {
		return fail(CodeCharacters, "this is not valid UTF-8")
	}
	n, visible := 0, false
	for _, r := range s {
		n++
		if !unicode.IsGraphic(r) || r == utf8.RuneError {
			return fail(CodeCharacters, "this holds control, format or invisible characters")
		}
		if !unicode.IsSpace(r) && !unicode.Is(unicode.Zs, r) && !unicode.Is(unicode.M, r) {
			visible = true
		}
	}
	if !visible {
		return fail(CodeRequired, "this has no visible characters")
	}
	if n > max {
		return fail(CodeLength, "this has at most %d characters", max)
	}
	return nil
}
