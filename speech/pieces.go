package speech

import (
	"fmt"
	"strconv"
	"unicode"

	"golang.org/x/text/encoding/traditionalchinese"
)

// Pieces are recorded once and put together at run time for values: a
// number 0–100 ("_num.42"), a character ("_char.0041": digits, letters,
// capitals, symbols, and the Chinese characters of Big5's frequently used
// set, which covers names and place names).
const (
	maxNumber = 100
	numPrefix = "_num."
	chPrefix  = "_char."
)

// NumberID is the clip of n, if there is one.
func NumberID(n int) (string, bool) {
	if n < 0 || n > maxNumber {
		return "", false
	}
	return numPrefix + strconv.Itoa(n), true
}

// CharID is the clip of the character r.
func CharID(r rune) string { return fmt.Sprintf("%s%04X", chPrefix, r) }

var letterEn = map[rune]string{
	'a': "ay", 'b': "bee", 'c': "see", 'd': "dee", 'e': "ee", 'f': "ef", 'g': "jee", 'h': "aitch",
	'i': "eye", 'j': "jay", 'k': "kay", 'l': "el", 'm': "em", 'n': "en", 'o': "oh", 'p': "pee",
	'q': "cue", 'r': "ar", 's': "ess", 't': "tee", 'u': "you", 'v': "vee", 'w': "double you",
	'x': "ex", 'y': "why", 'z': "zee",
}

// symbols are the characters of the on-screen keyboard and of e-mail
// addresses beyond letters and digits, with their names.
var symbols = []struct {
	r      rune
	en, zh string
}{
	{' ', "space", "空白"}, {'@', "at", "小老鼠"}, {'.', "dot", "點"}, {'-', "dash", "減號"},
	{'_', "underscore", "底線"}, {'!', "exclamation mark", "驚嘆號"}, {'#', "hash", "井字號"},
	{'$', "dollar", "錢字號"}, {'%', "percent", "百分比"}, {'^', "caret", "插入號"},
	{'&', "and sign", "和號"}, {'*', "star", "星號"}, {'(', "left parenthesis", "左括號"},
	{')', "right parenthesis", "右括號"}, {'=', "equals", "等號"}, {'+', "plus", "加號"},
	{',', "comma", "逗號"}, {'?', "question mark", "問號"}, {'/', "slash", "斜線"},
	{':', "colon", "冒號"}, {'\'', "apostrophe", "單引號"}, {'"', "quote", "雙引號"},
	{';', "semicolon", "分號"}, {'~', "tilde", "波浪號"}, {'•', "dot", "點"},
}

var digitZh = []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}

// pieces lists the value pieces of lang.
func pieces(lang string) []Entry {
	var out []Entry
	add := func(id, text, voice string) { out = append(out, Entry{Lang: lang, ID: id, Text: text, Voice: voice}) }
	for n := 0; n <= maxNumber; n++ {
		id, _ := NumberID(n)
		add(id, strconv.Itoa(n), lang)
	}
	for d := '0'; d <= '9'; d++ {
		if lang == "en" {
			add(CharID(d), strconv.Itoa(int(d-'0')), lang)
		} else {
			add(CharID(d), digitZh[d-'0'], lang)
		}
	}
	for r := 'a'; r <= 'z'; r++ {
		// Letters are English names in both languages, as Taiwan reads
		// them; a capital says so in the person's language.
		add(CharID(r), letterEn[r], "en")
		if lang == "en" {
			add(CharID(unicode.ToUpper(r)), "capital "+letterEn[r], "en")
		} else {
			add(CharID(unicode.ToUpper(r)), "大寫 "+letterEn[r], lang)
		}
	}
	for _, s := range symbols {
		if lang == "en" {
			add(CharID(s.r), s.en, lang)
		} else {
			add(CharID(s.r), s.zh, lang)
		}
	}
	if lang != "en" {
		// Chinese characters are recorded in Mandarin once; English
		// speech says a name's characters with them too.
		for _, r := range Hanzi() {
			add(CharID(r), string(r), lang)
		}
	}
	return out
}

// Hanzi returns the Chinese characters with a recording: Big5's level-1
// set of frequently used characters (5,401), in code order.
func Hanzi() []rune {
	dec := traditionalchinese.Big5.NewDecoder()
	var out []rune
	for hi := 0xA4; hi <= 0xC6; hi++ {
		for _, lo := range append(seq(0x40, 0x7E), seq(0xA1, 0xFE)...) {
			if hi == 0xC6 && lo > 0x7E {
				break
			}
			b, err := dec.Bytes([]byte{byte(hi), byte(lo)})
			if err != nil {
				continue
			}
			if r := []rune(string(b)); len(r) == 1 && unicode.Is(unicode.Han, r[0]) {
				out = append(out, r[0])
			}
		}
	}
	return out
}

func seq(a, b int) []int {
	var s []int
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
}
