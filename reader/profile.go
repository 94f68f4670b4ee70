package reader

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding/traditionalchinese"

	"github.com/nhikiosk/nhikiosk/rules"
)

// ProfileSize is the length of the profile READ PROFILE returns, without
// the status word.
const ProfileSize = 57

// Offsets of the profile's fields (public descriptions of the NHI card).
const (
	offCardNumber = 0  // 12 ASCII digits
	offName       = 12 // 20 bytes Big5, padded with NUL or spaces
	offIDNumber   = 32 // 10 ASCII characters
	offBirthDate  = 42 // 7 ASCII digits, ROC yyyMMdd
	offSex        = 49 // 'M' or 'F'
	offIssueDate  = 50 // 7 ASCII digits, ROC yyyMMdd
)

// rocOffset turns a year of the Republic of China calendar into the
// Gregorian year.
const rocOffset = 1911

// Sex is the sex printed on the card.
type Sex byte

// Values of Sex as the card stores them.
const (
	Male   Sex = 'M'
	Female Sex = 'F'
)

// Profile is what an NHI card says about its holder, decoded and validated.
//
// It is personal data: it must live only in RAM, for one session. It has
// no json encoding (the fields are tagged "-", so an accidental
// json.Marshal gives {}), it prints as "reader.Profile{redacted}" with any
// fmt verb, and as a slog value it is redacted. Wipe drops what it holds
// when the session ends. Code that sends it somewhere copies the fields it
// needs explicitly.
type Profile struct {
	CardNumber string    `json:"-"` // 12 digits
	Name       string    `json:"-"` // UTF-8, padding trimmed
	IDNumber   string    `json:"-"` // national ID or resident certificate number
	BirthDate  time.Time `json:"-"` // midnight UTC of the civil date
	Sex        Sex       `json:"-"`
	IssueDate  time.Time `json:"-"` // midnight UTC of the civil date
}

// Wipe drops every field of p. Go strings cannot be overwritten in place;
// the decoder zeroes the byte buffers it read the card into, so after Wipe
// no reference to this holder's data is kept by p.
func (p *Profile) Wipe() { *p = Profile{} }

// IsZero reports whether p holds nothing (never read, or wiped).
func (p *Profile) IsZero() bool { return *p == Profile{} }

// Format prints a redacted placeholder for every verb, so a profile that
// reaches fmt or a log line by mistake shows nothing personal.
func (p Profile) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("reader.Profile{redacted}")) }

// LogValue redacts the profile in log/slog output.
func (p Profile) LogValue() slog.Value { return slog.StringValue("redacted") }

// errField is a profile field that failed validation. It names the field,
// never its value, so it is safe to log.
func errField(field, why string) error {
	return fmt.Errorf("%w: %s %s", ErrGarbledProfile, field, why)
}

// DecodeProfile decodes and validates the 57 bytes of READ PROFILE (without
// the status word). Any failure wraps ErrGarbledProfile and names the
// field, never its content. It never panics, whatever b holds.
func DecodeProfile(b []byte) (Profile, error) {
	if len(b) != ProfileSize {
		return Profile{}, fmt.Errorf("%w: %d bytes, want %d", ErrGarbledProfile, len(b), ProfileSize)
	}
	var p Profile
	p.CardNumber = string(b[offCardNumber:offName])
	if err := rules.CardNumber(p.CardNumber); err != nil {
		return Profile{}, errField("card number", "is not 12 digits")
	}
	name, err := decodeName(b[offName:offIDNumber])
	if err != nil {
		return Profile{}, err
	}
	p.Name = name
	p.IDNumber = string(b[offIDNumber:offBirthDate])
	if _, err := rules.IDNumber(p.IDNumber); err != nil {
		var re *rules.Error
		if errors.As(err, &re) {
			return Profile{}, errField("ID number", "fails its rules ("+re.Code+")")
		}
		return Profile{}, errField("ID number", "fails its rules")
	}
	if p.BirthDate, err = rocDate(b[offBirthDate:offSex]); err != nil {
		return Profile{}, errField("birth date", err.Error())
	}
	switch s := Sex(b[offSex]); s {
	case Male, Female:
		p.Sex = s
	default:
		return Profile{}, errField("sex", "is neither M nor F")
	}
	if p.IssueDate, err = rocDate(b[offIssueDate:]); err != nil {
		return Profile{}, errField("issue date", err.Error())
	}
	if p.IssueDate.Before(p.BirthDate) {
		return Profile{}, errField("issue date", "is before the birth date")
	}
	return p, nil
}

var big5 = traditionalchinese.Big5

// decodeName turns the Big5 name field into UTF-8, trimming NUL and space
// padding. A name that is empty, does not decode cleanly, or holds control
// characters is garbled: showing a wrong name is worse than none.
func decodeName(field []byte) (string, error) {
	raw := bytes.Trim(field, "\x00 ")
	if len(raw) == 0 {
		return "", errField("name", "is empty")
	}
	// Big5 trail bytes are never NUL or space, so byte-level trimming
	// cannot cut a character in half; NUL inside the name is garbage.
	if bytes.IndexByte(raw, 0) >= 0 {
		return "", errField("name", "holds a NUL byte")
	}
	u, err := big5.NewDecoder().Bytes(raw)
	if err != nil {
		return "", errField("name", "is not Big5")
	}
	s := strings.TrimFunc(string(u), unicode.IsSpace)
	if s == "" {
		return "", errField("name", "is empty")
	}
	for _, r := range s {
		if r == utf8.RuneError || unicode.IsControl(r) || (r >= 0xE000 && r <= 0xF8FF) {
			return "", errField("name", "holds a character Big5 does not define")
		}
	}
	return s, nil
}

// rocDate parses a ROC calendar date yyyMMdd (year + 1911) that must
// exist: no 31 April, no 29 February outside leap years, no year 0.
func rocDate(b []byte) (time.Time, error) {
	if len(b) != 7 {
		return time.Time{}, errors.New("is not 7 digits")
	}
	n := [7]int{}
	for i, c := range b {
		if c < '0' || c > '9' {
			return time.Time{}, errors.New("is not 7 digits")
		}
		n[i] = int(c - '0')
	}
	y := n[0]*100 + n[1]*10 + n[2]
	m := n[3]*10 + n[4]
	d := n[5]*10 + n[6]
	if y == 0 || m < 1 || m > 12 || d < 1 {
		return time.Time{}, errors.New("is not a real date")
	}
	t := time.Date(y+rocOffset, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d || int(t.Month()) != m {
		return time.Time{}, errors.New("is not a real date")
	}
	return t, nil
}
