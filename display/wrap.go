package display

import (
	"strings"
	"unicode"
)

// wrap breaks s into lines no wider than w at px. Explicit newlines always
// break. CJK characters may break anywhere (except before closing
// punctuation); Latin text breaks after spaces; a word wider than w is cut
// between characters.
func wrap(f *Font, s string, px, w int) []string {
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, wrapPara(f, para, px, w)...)
	}
	return out
}

func wrapPara(f *Font, s string, px, w int) []string {
	var lines []string
	var line strings.Builder
	lineW := 0
	for _, tok := range tokens(s) {
		tw := f.Width(tok, px)
		if lineW+tw <= w || line.Len() == 0 && tw <= w {
			line.WriteString(tok)
			lineW += tw
			continue
		}
		trimmed := strings.TrimRight(tok, " ")
		if lineW+f.Width(trimmed, px) <= w { // only the trailing space overflows
			line.WriteString(trimmed)
			lineW = w
			continue
		}
		if line.Len() > 0 {
			lines = append(lines, strings.TrimRight(line.String(), " "))
			line.Reset()
			lineW = 0
		}
		if tw <= w {
			line.WriteString(tok)
			lineW = tw
			continue
		}
		for _, r := range tok { // a word wider than the line
			rw := f.Width(string(r), px)
			if lineW+rw > w && line.Len() > 0 {
				lines = append(lines, line.String())
				line.Reset()
				lineW = 0
			}
			line.WriteRune(r)
			lineW += rw
		}
	}
	lines = append(lines, strings.TrimRight(line.String(), " "))
	return lines
}

// tokens splits s into unbreakable pieces: a Latin word with its trailing
// spaces, or one CJK character with any closing punctuation after it.
func tokens(s string) []string {
	var toks []string
	rs := []rune(s)
	for i := 0; i < len(rs); {
		j := i + 1
		if isCJK(rs[i]) {
			for j < len(rs) && isClosing(rs[j]) {
				j++
			}
		} else {
			for j < len(rs) && !isCJK(rs[j]) && !(rs[j-1] == ' ' && rs[j] != ' ') {
				j++
			}
		}
		toks = append(toks, string(rs[i:j]))
		i = j
	}
	return toks
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Bopomofo, r) ||
		(r >= 0x3000 && r <= 0x303f) || (r >= 0xff00 && r <= 0xffef)
}

func isClosing(r rune) bool {
	return strings.ContainsRune("，。、；：？！）」』】》〉,.;:?!)", r)
}
