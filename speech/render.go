package speech

import (
	"fmt"
	"time"
	"unicode"

	"github.com/nhikiosk/nhikiosk/display"
)

// Clip names one recording: its language and id.
type Clip struct{ Lang, ID string }

// Renderer turns messages into the clips that say them, in a language.
type Renderer struct {
	Cat *display.Catalog
	// Pronounce holds, per language, texts read instead of the catalog's
	// (the same the clips were recorded from).
	Pronounce map[string]map[string]string
}

// NewRenderer returns a renderer of cat's messages, adding speech's own
// (the words of durations) to cat, with the built-in pronunciations.
func NewRenderer(cat *display.Catalog) (*Renderer, error) {
	if err := AddMessages(cat); err != nil {
		return nil, err
	}
	return &Renderer{Cat: cat, Pronounce: Pronunciations()}, nil
}

// Render returns the clips that say msgs in lang, in order.
func (r *Renderer) Render(lang string, msgs ...display.Msg) []Clip {
	var out []Clip
	for _, m := range msgs {
		out = r.msg(out, lang, m)
	}
	return out
}

func (r *Renderer) msg(out []Clip, lang string, m display.Msg) []Clip {
	if m.Key == "" {
		return spell(out, lang, m.Lit)
	}
	text, ok := r.Pronounce[lang][m.Key]
	if !ok {
		if !r.Cat.Has(lang, m.Key) {
			lang = display.LangZhTW // the catalog's own fallback
		}
		text = r.Cat.Text(lang, m.Key)
	}
	segs := Segments(text)
	statics := 0
	for _, s := range segs {
		if s.Placeholder == "" {
			statics++
		}
	}
	whole := statics == 1 && len(segs) == 1
	n := 0
	for _, s := range segs {
		if s.Placeholder == "" {
			id := ClipID(m.Key, n)
			if whole {
				id = ClipID(m.Key, -1)
			}
			out = append(out, Clip{lang, id})
			n++
			continue
		}
		for i := 0; i+1 < len(m.Args); i += 2 {
			if fmt.Sprint(m.Args[i]) == s.Placeholder {
				out = r.value(out, lang, m.Args[i+1])
				break
			}
		}
	}
	return out
}

// value says a placeholder's value: a number as a number, a message in
// the language, a duration in minutes and seconds, anything else
// character by character.
func (r *Renderer) value(out []Clip, lang string, v any) []Clip {
	switch v := v.(type) {
	case display.Msg:
		return r.msg(out, lang, v)
	case int:
		return number(out, lang, v)
	case int64:
		return number(out, lang, int(v))
	case time.Duration:
		s := int(v.Round(time.Second) / time.Second)
		if s < 60 {
			return r.msg(out, lang, display.M("speech.seconds", "s", s))
		}
		return r.msg(out, lang, display.M("speech.minutes", "m", s/60, "s", s%60))
	case string:
		return spell(out, lang, v)
	}
	return spell(out, lang, fmt.Sprint(v))
}

func number(out []Clip, lang string, n int) []Clip {
	if id, ok := NumberID(n); ok {
		return append(out, Clip{lang, id})
	}
	return spell(out, lang, fmt.Sprint(n))
}

// spell says s character by character; a Chinese character in its
// Mandarin recording whatever the language. Punctuation without a name
// ("—", "：") is not said.
func spell(out []Clip, lang string, s string) []Clip {
	for _, c := range s {
		l := lang
		switch {
		case unicode.Is(unicode.Han, c):
			l = display.LangZhTW
		case c < 0x80 && (unicode.IsLetter(c) || unicode.IsDigit(c)), symbolNames[c]:
		default:
			continue
		}
		out = append(out, Clip{l, CharID(c)})
	}
	return out
}

// symbolNames are the symbols with a recording.
var symbolNames = func() map[rune]bool {
	m := map[rune]bool{}
	for _, s := range symbols {
		m[s.r] = true
	}
	return m
}()
