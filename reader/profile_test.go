package reader_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/reader"
	"github.com/nhikiosk/nhikiosk/reader/readertest"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// fake people: every one made up.
var (
	twoChars = readertest.Person{CardNumber: "000011112222", Name: "測二", IDNumber: "F222222222",
		BirthDate: date(1985, 12, 31), Sex: reader.Female, IssueDate: date(2004, 1, 1)}
	fourChars = readertest.Person{CardNumber: "000033334444", Name: "歐陽測試", IDNumber: "AC00000012",
		BirthDate: date(1970, 2, 28), Sex: reader.Female, IssueDate: date(2020, 2, 29), PadSpace: true}
	rare = readertest.Person{CardNumber: "000055556666", Name: "林堃恒碁喆犇", IDNumber: "B912345674",
		BirthDate: date(2000, 2, 29), Sex: reader.Male, IssueDate: date(2000, 3, 1)}
	latin = readertest.Person{CardNumber: "000077778888", Name: "TEST ONE", IDNumber: "A800000014",
		BirthDate: date(1912, 1, 1), Sex: reader.Male, IssueDate: date(2021, 1, 2), PadSpace: true}
)

func describe(p reader.Profile) string {
	return fmt.Sprintf("{%q %q %q %s %c %s}", p.CardNumber, p.Name, p.IDNumber,
		p.BirthDate.Format(time.DateOnly), p.Sex, p.IssueDate.Format(time.DateOnly))
}

func encode(t testing.TB, p readertest.Person) []byte {
	t.Helper()
	b, err := p.Encode()
	if err != nil {
		t.Fatalf("Encode(%s): %v", p.Name, err)
	}
	return b
}

func TestDecodeProfile(t *testing.T) {
	for name, p := range map[string]readertest.Person{
		"three characters, NUL padding": readertest.TestOne,
		"two characters":                twoChars,
		"four characters, space padding, old resident certificate": fourChars,
		"rare Big5 (ETEN and HKSCS), leap day, new resident":       rare,
		"latin name with inner space":                              latin,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := reader.DecodeProfile(encode(t, p))
			if err != nil {
				t.Fatalf("DecodeProfile: %v", err)
			}
			want := reader.Profile{CardNumber: p.CardNumber, Name: p.Name, IDNumber: p.IDNumber,
				BirthDate: p.BirthDate, Sex: p.Sex, IssueDate: p.IssueDate}
			if got != want {
				t.Errorf("DecodeProfile = %s, want %s", describe(got), describe(want))
			}
		})
	}
}

func TestDecodeProfileTrimsMixedPadding(t *testing.T) {
	b := encode(t, readertest.TestOne)
	// Name 測試一 is 6 Big5 bytes at 12..17; pad the rest with a mix and a
	// leading space, and a full-width space (A1 40) at the end.
	copy(b[12:32], append([]byte(" \xb4\xfa\xb8\xd5\xa4\x40\xa1\x40 \x00 "), make([]byte, 9)...))
	got, err := reader.DecodeProfile(b)
	if err != nil {
		t.Fatalf("DecodeProfile: %v", err)
	}
	if got, want := got.Name, "測試一"; got != want {
		t.Errorf("Name = %q, want %q", got, want)
	}
}

func TestDecodeProfileRejects(t *testing.T) {
	patch := func(off int, s string) []byte {
		b := encode(t, readertest.TestOne)
		copy(b[off:], s)
		return b
	}
	for name, tc := range map[string]struct {
		b     []byte
		field string
	}{
		"short":                {b: make([]byte, 56), field: "56 bytes"},
		"long":                 {b: make([]byte, 58), field: "58 bytes"},
		"all zero":             {b: make([]byte, 57), field: "card number"},
		"card number letter":   {b: patch(0, "00001234567X"), field: "card number"},
		"name empty":           {b: patch(12, strings.Repeat("\x00", 20)), field: "name"},
		"name spaces":          {b: patch(12, strings.Repeat(" ", 20)), field: "name"},
		"name bad Big5":        {b: patch(12, "\xff\xfe\x80"), field: "name"},
		"name control char":    {b: patch(12, "\x07"), field: "name"},
		"name inner NUL":       {b: patch(12, "\xb4\xfa\x00\xb8\xd5"), field: "name"},
		"ID check digit":       {b: patch(32, "A123456788"), field: "ID number"},
		"ID lower case":        {b: patch(32, "a123456789"), field: "ID number"},
		"birth 30 February":    {b: patch(42, "0790230"), field: "birth date"},
		"birth year 0":         {b: patch(42, "0000101"), field: "birth date"},
		"birth month 13":       {b: patch(42, "0791301"), field: "birth date"},
		"birth day 0":          {b: patch(42, "0790100"), field: "birth date"},
		"birth not digits":     {b: patch(42, "07901a1"), field: "birth date"},
		"29 Feb not leap":      {b: patch(50, "1020229"), field: "issue date"},
		"sex":                  {b: patch(49, "X"), field: "sex"},
		"issue before birth":   {b: patch(50, "0781231"), field: "issue date"},
		"issue date spaces":    {b: patch(50, "       "), field: "issue date"},
		"card number as space": {b: patch(0, "            "), field: "card number"},
	} {
		t.Run(name, func(t *testing.T) {
			p, err := reader.DecodeProfile(tc.b)
			if !errors.Is(err, reader.ErrGarbledProfile) {
				t.Fatalf("DecodeProfile = %s, %v; want ErrGarbledProfile", describe(p), err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("error %q does not name %q", err, tc.field)
			}
			if !p.IsZero() {
				t.Errorf("DecodeProfile returned data with its error: %s", describe(p))
			}
		})
	}
}

// The profile must not leak through fmt, slog or encoding/json, and its
// errors must not carry card content.
func TestProfileRedaction(t *testing.T) {
	p, err := reader.DecodeProfile(encode(t, readertest.TestOne))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"測試一", "A123456789", "000012345678", "1990"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("read", "profile", p, "ptr", &p)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("read", "profile", p)
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	type wrapper struct{ P reader.Profile }
	for _, out := range []string{
		fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s %q %x", p, p, p, p, p, p),
		fmt.Sprintf("%+v", wrapper{p}), fmt.Sprint(&p), logged.String(), string(js),
	} {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("output %q shows %q", out, s)
			}
		}
	}
	if got, want := string(js), "{}"; got != want {
		t.Errorf("json.Marshal(profile) = %s, want %s", got, want)
	}

	bad := encode(t, readertest.TestOne)
	copy(bad[32:], "A123456788")
	_, err = reader.DecodeProfile(bad)
	for _, s := range append(secrets, "A123456788") {
		if err == nil || strings.Contains(err.Error(), s) {
			t.Errorf("DecodeProfile error %v shows %q", err, s)
		}
	}
}

func TestProfileWipe(t *testing.T) {
	p, err := reader.DecodeProfile(encode(t, readertest.TestOne))
	if err != nil {
		t.Fatal(err)
	}
	if p.IsZero() {
		t.Fatal("decoded profile IsZero")
	}
	p.Wipe()
	if !p.IsZero() {
		t.Errorf("after Wipe the profile still holds %s", describe(p))
	}
}

func FuzzDecodeProfile(f *testing.F) {
	for _, p := range []readertest.Person{readertest.TestOne, twoChars, fourChars, rare, latin} {
		b, err := p.Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := reader.DecodeProfile(b)
		if err != nil {
			if !errors.Is(err, reader.ErrGarbledProfile) {
				t.Fatalf("error %v is not ErrGarbledProfile", err)
			}
			if !p.IsZero() {
				t.Fatalf("data returned with error %v", err)
			}
			return
		}
		// Whatever decodes must satisfy the rules it was checked against.
		if len(p.CardNumber) != 12 || len(p.IDNumber) != 10 || p.Name == "" ||
			(p.Sex != reader.Male && p.Sex != reader.Female) || p.IssueDate.Before(p.BirthDate) {
			t.Fatalf("accepted an invalid profile %s", describe(p))
		}
	})
}
