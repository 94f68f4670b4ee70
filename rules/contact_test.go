package rules

import (
	"strings"
	"testing"
)

func TestContactPhone(t *testing.T) {
	tests := []struct {
		name, area, number, ext, code string
	}{
		{"taipei", "02", "23456789", "", ""},
		{"taipei extension", "02", "27065866", "1234", ""},
		{"taichung", "04", "22345678", "", ""},
		{"nantou", "049", "2345678", "", ""},
		{"kinmen", "082", "312345", "", ""},
		{"taipei short", "02", "2345678", "", CodeInvalidNumber},
		{"no such area", "01", "23456789", "", CodeInvalidNumber},
		{"area without 0", "2", "23456789", "", CodeFormat},
		{"letters", "02", "2345678X", "", CodeFormat},
		{"long extension", "02", "23456789", "1234567", CodeFormat},
		{"extension letters", "02", "23456789", "12a", CodeFormat},
		{"empty", "", "", "", CodeRequired},
		{"number missing", "02", "", "", CodeFormat},
		{"too long", "02", "12345678901", "", CodeLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := code(ContactPhone(tt.area, tt.number, tt.ext)); got != tt.code {
				t.Errorf("ContactPhone(%q, %q, %q) code = %q, want %q", tt.area, tt.number, tt.ext, got, tt.code)
			}
		})
	}
}

func TestMobile(t *testing.T) {
	tests := []struct{ in, code string }{
		{"0912345678", ""},
		{"0987654321", ""},
		{"0812345678", CodeFormat},
		{"091234567", CodeLength},
		{"09123456789", CodeLength},
		{"09-1234567", CodeFormat},
		{"", CodeRequired},
	}
	for _, tt := range tests {
		if got := code(Mobile(tt.in)); got != tt.code {
			t.Errorf("Mobile(%q) code = %q, want %q", tt.in, got, tt.code)
		}
	}
}

func TestEmail(t *testing.T) {
	tests := []struct{ in, code string }{
		{"test.one@example.com", ""},
		{"a+b@mail.example.com.tw", ""},
		{"x@example", CodeFormat},
		{"x@localhost", CodeFormat},
		{"x@[127.0.0.1]", CodeFormat},
		{"x@127.0.0.1", CodeFormat},
		{"Test One <t@example.com>", CodeCharacters},
		{"<t@example.com>", CodeFormat},
		{"no-at.example.com", CodeFormat},
		{"x@-bad.example.com", CodeFormat},
		{"x@exa_mple.com", CodeFormat},
		{" t@example.com", CodeCharacters},
		{"測試@example.com", CodeCharacters},
		{strings.Repeat("a", 64) + "@example.com", ""},
		{strings.Repeat("a", 65) + "@example.com", CodeLength},
		{strings.Repeat("a", 200) + "@example.com", CodeLength},
		{"", CodeRequired},
	}
	for _, tt := range tests {
		if got := code(Email(tt.in)); got != tt.code {
			t.Errorf("Email(%q) code = %q, want %q", tt.in, got, tt.code)
		}
	}
}

func TestBackupEmail(t *testing.T) {
	tests := []struct{ primary, backup, code string }{
		{"one@example.com", "", ""},
		{"one@example.com", "two@example.com", ""},
		{"one@example.com", "ONE@example.com", CodeSameAsPrimary},
		{"one@example.com", "bad", CodeFormat},
	}
	for _, tt := range tests {
		if got := code(BackupEmail(tt.primary, tt.backup)); got != tt.code {
			t.Errorf("BackupEmail(%q, %q) code = %q, want %q", tt.primary, tt.backup, got, tt.code)
		}
	}
}

func FuzzEmail(f *testing.F) {
	for _, s := range []string{"test.one@example.com", "x@[1.2.3.4]", "\"a b\"@example.com", "a@b.c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if err := Email(s); err == nil && !contains(s, "@") {
			t.Fatalf("Email(%q) accepted an address without @", s)
		}
	})
}

func FuzzContactPhone(f *testing.F) {
	f.Add("02", "23456789", "12")
	f.Add("0", "", "")
	f.Fuzz(func(t *testing.T, area, number, ext string) {
		if err := ContactPhone(area, number, ext); err == nil && (!allDigits(area+number+ext) || area == "" || area[0] != '0') {
			t.Fatalf("ContactPhone(%q, %q, %q) accepted non-digits", area, number, ext)
		}
	})
}
