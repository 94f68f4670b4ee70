package t1

import (
	"bytes"
	"errors"
	"testing"
)

func TestEncodeRecorded(t *testing.T) {
	// The NHI SELECT as the first I-block after the ATR, and the card's
	// 90 00 answer, as they go over the wire (LRC last).
	sel := IBlock(0, false, h("00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00"))
	if got, want := sel.Encode(), h("00 00 15 00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00 3C"); !bytes.Equal(got, want) {
		t.Errorf("SELECT block = % X, want % X", got, want)
	}
	if got, want := IBlock(0, false, h("90 00")).Encode(), h("00 00 02 90 00 92"); !bytes.Equal(got, want) {
		t.Errorf("90 00 block = % X, want % X", got, want)
	}
	if got, want := SBlock(SIFS, false, []byte{0xFE}).Encode(), h("00 C1 01 FE 3E"); !bytes.Equal(got, want) {
		t.Errorf("S(IFS 254) = % X, want % X", got, want)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string // Block.String, or "" for an error
		err  error
	}{
		{"I0", h("00 00 02 90 00 92"), "I(0,false) 2 bytes", nil},
		{"I1 more", h("00 60 01 AA CB"), "I(1,true) 1 bytes", nil},
		{"R1 ok", h("00 90 00 90"), "R(1) err 0", nil},
		{"R0 edc", h("00 81 00 81"), "R(0) err 1", nil},
		{"WTX request", h("00 C3 01 02 C0"), "S(WTX request) 02", nil},
		{"IFS response", h("00 E1 01 FE 1E"), "S(IFS response) fe", nil},
		{"bad LRC", h("00 00 02 90 00 93"), "", ErrEDC},
		{"short", h("00 00 00"), "", ErrBadBlock},
		{"LEN too long", h("00 00 05 90 00 95"), "", ErrBadBlock},
		{"LEN 255", append(append(h("00 00 FF"), make([]byte, 255)...), 0xFF), "", ErrBadBlock},
		{"I with reserved bits", h("00 01 00 01"), "", ErrBadBlock},
		{"R with data", h("00 80 01 00 81"), "", ErrBadBlock},
		{"IFS zero", h("00 C1 01 00 C0"), "", ErrBadBlock},
		{"WTX without data", h("00 C3 00 C3"), "", ErrBadBlock},
		{"unknown S", h("00 C5 00 C5"), "", ErrBadBlock},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Parse(tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Parse(% X) error = %v, want %v", tc.in, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(% X): %v", tc.in, err)
			}
			if got := b.String(); got != tc.want {
				t.Errorf("Parse(% X) = %s, want %s", tc.in, got, tc.want)
			}
			if got := b.Encode(); !bytes.Equal(got, tc.in) {
				t.Errorf("Encode(Parse(% X)) = % X", tc.in, got)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(h("00 00 02 90 00 92"))
	f.Add(h("00 C3 01 02 C0"))
	f.Add(h("00 90 00 90"))
	f.Add(h("00 60 01 AA CB"))
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := Parse(p)
		if err != nil {
			return
		}
		if got := b.Encode(); !bytes.Equal(got, p) {
			t.Fatalf("Encode(Parse(% X)) = % X", p, got)
		}
		_ = b.String()
	})
}
