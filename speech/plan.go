// Package speech owns what the kiosk says in audio mode (issue 20): every
// message of the catalog recorded at build time in zh-TW and en by a real
// synthesizer (cmd/speechgen), embedded as Opus clips with the hash of the
// text each was made from; values (numbers, digits, letters, symbols,
// Chinese characters) from pre-recorded pieces; and a Speaker that plays a
// sequence of messages on a sound.Device, interrupted by the next one.
//
// It turns display.Msg values (catalog keys with arguments) into clips and
// never sees a screen; what to say comes from the display's spoken forms.
// It must not log what it says: a value may be a person's data, and is
// only ever played to the headphones.
package speech

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"

	"github.com/nhikiosk/nhikiosk/display"
)

// Entry is one clip to record: the text the synthesizer reads for a
// catalog message (or a static part of one with placeholders) or a piece.
type Entry struct {
	Lang string // the catalog language: zh-TW or en
	ID   string // the clip's id (ClipID)
	// Text is what the synthesizer reads; Voice the synthesizer voice's
	// language ("zh-TW" or "en": a zh-TW letter piece is English).
	Text  string
	Voice string
}

// Hash identifies what a clip was made from: the recording settings, the
// voice and the text. A clip whose stored hash differs is stale.
func (e Entry) Hash(settings string) string {
	h := sha256.Sum256([]byte(settings + "\x00" + e.Voice + "\x00" + e.Text))
	return hex.EncodeToString(h[:8])
}

// Segment is a part of a message's text: static text (recorded) or a
// placeholder filled at run time.
type Segment struct {
	Text        string // static text, if Placeholder is empty
	Placeholder string
}

var placeholderRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// Segments splits a catalog text at its placeholders ("{n}"), dropping
// static parts that are only spaces and punctuation (nothing to say).
func Segments(text string) []Segment {
	var out []Segment
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(text, -1) {
		if s := text[last:m[0]]; speakable(s) {
			out = append(out, Segment{Text: s})
		}
		out = append(out, Segment{Placeholder: text[m[2]:m[3]]})
		last = m[1]
	}
	if s := text[last:]; speakable(s) {
		out = append(out, Segment{Text: s})
	}
	return out
}

// speakable reports whether s has a letter, digit or CJK character.
func speakable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 0x2e7f
	}) >= 0
}

// ClipID names the recording of static part i of key's text, or of the
// whole text (i < 0) when it has no placeholders.
func ClipID(key string, i int) string {
	if i < 0 {
		return key
	}
	return key + "~" + string(rune('0'+i))
}

// Plan lists every clip the catalog needs in lang: each message (its
// static parts when it has placeholders) and every piece. Pronounce gives
// the text to read instead of the catalog's, by key, where the catalog's
// reads badly (an example written as "09xx-xxx-xxx").
func Plan(cat *display.Catalog, lang string, pronounce map[string]string) []Entry {
	var out []Entry
	for _, key := range cat.Keys(lang) {
		text := cat.Text(lang, key)
		if p, ok := pronounce[key]; ok {
			text = p
		}
		segs := Segments(text)
		whole := len(segs) == 1 && segs[0].Placeholder == "" && !strings.Contains(text, "{")
		n := 0
		for _, s := range segs {
			if s.Placeholder != "" {
				continue
			}
			id := ClipID(key, n)
			if whole {
				id = ClipID(key, -1)
			}
			out = append(out, Entry{Lang: lang, ID: id, Text: strings.TrimSpace(s.Text), Voice: lang})
			n++
		}
	}
	return append(out, pieces(lang)...)
}
