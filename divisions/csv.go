package divisions

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Header is the CSV form's first row: one village a row, with its county
// and township. HeaderLine is the same as a line of the file.
var Header = strings.Split(strings.TrimSpace(HeaderLine), ",")

// HeaderLine is Header as the file's first line.
const HeaderLine = "county_code,county,county_en,township_code,township,township_en,village_code,village,village_en\n"

// Code lengths: a county's code has 5 digits, a township's 8 and a
// village's 11, each the one above it followed by digits of its own.
const (
	CountyCodeLen   = 5
	TownshipCodeLen = 8
	VillageCodeLen  = 11
)

// MaxNameRunes bounds a division's name in either language.
const MaxNameRunes = 40

// Parse reads a division list in the CSV form of data/taiwan.csv.gz
// (UTF-8, the Header row, then one village a row in any order) and builds
// the tree in the order rows first name each division. Every code must
// have its length and start with its parent's; a code names one division
// only; names are non-empty, printable and at most MaxNameRunes long. The
// source marks characters outside Big5 with brackets (磚[磘]里); the
// brackets are dropped. The version is left empty: the caller knows it.
func Parse(r io.Reader) (List, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = len(Header)
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return List{}, fmt.Errorf("divisions CSV: header: %w", err)
	}
	head[0] = strings.TrimPrefix(head[0], "\ufeff")
	for i, h := range Header {
		if head[i] != h {
			return List{}, fmt.Errorf("divisions CSV: header column %d is %q, want %q", i+1, head[i], h)
		}
	}
	b := builder{seen: map[string]division{}}
	for line := 2; ; line++ {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return List{}, fmt.Errorf("divisions CSV: %w", err)
		}
		if err := b.add(row); err != nil {
			return List{}, fmt.Errorf("divisions CSV line %d: %w", line, err)
		}
	}
	if len(b.l.Counties) == 0 {
		return List{}, errors.New("divisions CSV: no villages")
	}
	return b.l, nil
}

// division is what a code stood for when first seen.
type division struct{ zh, en string }

type builder struct {
	l    List
	seen map[string]division
}

func (b *builder) add(row []string) error {
	var d [3]Division
	lens := [3]int{CountyCodeLen, TownshipCodeLen, VillageCodeLen}
	for i := range d {
		code, zh, en := strings.TrimSpace(row[3*i]), cleanName(row[3*i+1]), strings.TrimSpace(row[3*i+2])
		if err := checkCode(code, lens[i]); err != nil {
			return fmt.Errorf("%s: %w", Header[3*i], err)
		}
		if i > 0 && !strings.HasPrefix(code, d[i-1].Code) {
			return fmt.Errorf("%s does not start with the %s", Header[3*i], Header[3*(i-1)])
		}
		for j, name := range []string{zh, en} {
			if err := checkName(name); err != nil {
				return fmt.Errorf("%s: %w", Header[3*i+1+j], err)
			}
		}
		if old, ok := b.seen[code]; ok && old != (division{zh, en}) {
			return fmt.Errorf("%s: the code was named otherwise before", Header[3*i])
		} else if ok && i == 2 {
			return fmt.Errorf("%s: the village is listed twice", Header[3*i])
		}
		b.seen[code] = division{zh, en}
		d[i] = Division{Code: code, Zh: zh, En: en}
	}
	c := Find(b.l.Counties, d[0].Code)
	if c == nil {
		b.l.Counties = append(b.l.Counties, d[0])
		c = &b.l.Counties[len(b.l.Counties)-1]
	}
	t := Find(c.Children, d[1].Code)
	if t == nil {
		c.Children = append(c.Children, d[1])
		t = &c.Children[len(c.Children)-1]
	}
	t.Children = append(t.Children, d[2])
	return nil
}

// cleanName trims spaces and the source's brackets around characters
// outside Big5.
func cleanName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '[' || r == ']' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

func checkCode(code string, n int) error {
	if len(code) != n || strings.Trim(code, "0123456789") != "" {
		return fmt.Errorf("a code has %d digits", n)
	}
	return nil
}

func checkName(s string) error {
	switch {
	case s == "":
		return errors.New("the name is empty")
	case !utf8.ValidString(s):
		return errors.New("the name is not UTF-8")
	case utf8.RuneCountInString(s) > MaxNameRunes:
		return fmt.Errorf("the name is longer than %d characters", MaxNameRunes)
	case strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return errors.New("the name has a character that is not printable")
	}
	return nil
}
