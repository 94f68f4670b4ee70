package reader

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"
)

// script is a Transport that answers from a list and records commands.
type script struct {
	answers [][]byte
	sent    [][]byte
	err     error // returned once the answers run out, if set
}

func (s *script) ATR() []byte { return []byte{0x3B, 0x00} }

func (s *script) Transmit(_ context.Context, apdu []byte) ([]byte, error) {
	s.sent = append(s.sent, bytes.Clone(apdu))
	if len(s.answers) == 0 {
		if s.err != nil {
			return nil, s.err
		}
		return []byte{0x6F, 0x00}, nil
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a, nil
}

func h(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestExchange(t *testing.T) {
	for name, tc := range map[string]struct {
		cmd      string
		answers  []string
		wantData string
		wantSW   uint16
		wantSent []string
	}{
		"plain": {
			cmd: "00ca1100020000", answers: []string{"01029000"},
			wantData: "0102", wantSW: 0x9000, wantSent: []string{"00ca1100020000"},
		},
		"61xx twice": {
			cmd: "00ca1100020000", answers: []string{"6103", "0102036102", "04059000"},
			wantData: "0102030405", wantSW: 0x9000,
			wantSent: []string{"00ca1100020000", "00c0000003", "00c0000002"},
		},
		"6Cxx on case 3 adds Le": {
			cmd: "00ca1100020000", answers: []string{"6c39", "aa9000"},
			wantData: "aa", wantSW: 0x9000, wantSent: []string{"00ca1100020000", "00ca110002000039"},
		},
		"6Cxx on case 4 replaces Le": {
			cmd: "00a4040002d15800", answers: []string{"6c10", "9000"},
			wantSW: 0x9000, wantSent: []string{"00a4040002d15800", "00a4040002d15810"},
		},
		"6Cxx on case 2 replaces Le": {
			cmd: "00b0000000", answers: []string{"6c05", "01020304059000"},
			wantData: "0102030405", wantSW: 0x9000, wantSent: []string{"00b0000000", "00b0000005"},
		},
		"6Cxx then 61xx": {
			cmd: "00b0000000", answers: []string{"6c05", "6105", "01020304059000"},
			wantData: "0102030405", wantSW: 0x9000,
			wantSent: []string{"00b0000000", "00b0000005", "00c0000005"},
		},
		"error status passes through": {
			cmd: "00a4040000", answers: []string{"6a82"},
			wantSW: 0x6A82, wantSent: []string{"00a4040000"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := &script{}
			for _, a := range tc.answers {
				s.answers = append(s.answers, h(a))
			}
			data, sw, err := exchange(context.Background(), s, h(tc.cmd))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			if got, want := hex.EncodeToString(data), tc.wantData; got != want {
				t.Errorf("data = %s, want %s", got, want)
			}
			if sw != tc.wantSW {
				t.Errorf("sw = %04X, want %04X", sw, tc.wantSW)
			}
			var sent []string
			for _, c := range s.sent {
				sent = append(sent, hex.EncodeToString(c))
			}
			if got, want := sent, tc.wantSent; !equal(got, want) {
				t.Errorf("sent %v, want %v", got, want)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestExchangeFailures(t *testing.T) {
	endless := &script{}
	for range 100 {
		endless.answers = append(endless.answers, h("006101"))
	}
	for name, tc := range map[string]struct {
		s    *script
		want error
	}{
		"empty answer":         {s: &script{answers: [][]byte{{}}}, want: errMalformed},
		"one byte":             {s: &script{answers: [][]byte{{0x90}}}, want: errMalformed},
		"endless GET RESPONSE": {s: endless, want: errMalformed},
		"transport error":      {s: &script{err: ErrCardRemoved}, want: ErrCardRemoved},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := exchange(context.Background(), tc.s, h("00ca1100020000"))
			if !errors.Is(err, tc.want) {
				t.Errorf("exchange error = %v, want %v", err, tc.want)
			}
			if len(tc.s.sent) > maxGetResponse+2 {
				t.Errorf("sent %d commands, want at most %d", len(tc.s.sent), maxGetResponse+2)
			}
		})
	}
}

func TestExchangeCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &script{}
	if _, _, err := exchange(ctx, s, h("00ca1100020000")); !errors.Is(err, context.Canceled) {
		t.Errorf("exchange error = %v, want context.Canceled", err)
	}
	if len(s.sent) != 0 {
		t.Errorf("sent %d commands after cancel", len(s.sent))
	}
}

// fuzzTransport answers from the fuzz input: each answer is a length byte
// and that many bytes, until the input runs out.
type fuzzTransport struct{ in []byte }

func (f *fuzzTransport) ATR() []byte { return []byte{0x3B} }

func (f *fuzzTransport) Transmit(_ context.Context, _ []byte) ([]byte, error) {
	if len(f.in) == 0 {
		return nil, errors.New("no more answers")
	}
	n := min(int(f.in[0]), len(f.in)-1)
	a := f.in[1 : 1+n]
	f.in = f.in[1+n:]
	return bytes.Clone(a), nil
}

func FuzzExchange(f *testing.F) {
	f.Add([]byte{2, 0x90, 0x00})
	f.Add([]byte{2, 0x61, 0x05, 7, 1, 2, 3, 4, 5, 0x90, 0x00})
	f.Add([]byte{2, 0x6C, 0x39, 2, 0x90, 0x00})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, in []byte) {
		ft := &fuzzTransport{in: in}
		// Neither the APDU layer nor the whole protocol may panic.
		if _, _, err := exchange(context.Background(), ft, SelectNHI); err == nil && len(ft.in) > len(in) {
			t.Fatal("consumed more than the input")
		}
		p, err := ReadProfile(context.Background(), &fuzzTransport{in: in})
		if err == nil && p.IsZero() {
			t.Fatal("ReadProfile succeeded with an empty profile")
		}
		if err != nil && !p.IsZero() {
			t.Fatal("ReadProfile returned data with an error")
		}
	})
}
