package reader

import (
	"bytes"
	"errors"
	"testing"
)

func TestCheckCommand(t *testing.T) {
	aidSelect := func(p2 byte) []byte { c := bytes.Clone(SelectNHI); c[3] = p2; return c }
	internalAuth := append([]byte{0x00, 0x88, 0x00, 0x00, 0x20}, make([]byte, 32)...)
	for _, tc := range []struct {
		name string
		apdu []byte
		ok   bool
	}{
		{"SELECT NHI", SelectNHI, true},
		{"SELECT NHI, no FCI", aidSelect(0x0C), true},
		{"SELECT NHI with Le", append(bytes.Clone(SelectNHI), 0x00), true},
		{"READ PROFILE", ReadProfileCmd, true},
		{"GET DATA case 2", []byte{0x00, 0xCA, 0x11, 0x01, 0x00}, true},
		{"READ BINARY", []byte{0x00, 0xB0, 0x81, 0x00, 0x00}, true},
		{"READ RECORD", []byte{0x00, 0xB2, 0x01, 0x04, 0x00}, true},
		{"GET CHALLENGE", []byte{0x00, 0x84, 0x00, 0x00, 0x08}, true},
		{"INTERNAL AUTHENTICATE", internalAuth, true},
		{"INTERNAL AUTHENTICATE with Le", append(bytes.Clone(internalAuth), 0x00), true},
		{"case 1 READ BINARY", []byte{0x00, 0xB0, 0x00, 0x00}, true},

		{"SELECT another AID", []byte{0x00, 0xA4, 0x04, 0x00, 0x05, 1, 2, 3, 4, 5}, false},
		{"SELECT NHI AID prefix", SelectNHI[:20], false},
		{"SELECT by file id", []byte{0x00, 0xA4, 0x00, 0x00, 0x02, 0x3F, 0x00}, false},
		{"SELECT parent", []byte{0x00, 0xA4, 0x03, 0x00}, false},
		{"SELECT NHI next occurrence", aidSelect(0x02), false},
		{"READ BINARY with data", []byte{0x00, 0xB0, 0x00, 0x00, 0x01, 0x00}, false},
		{"INTERNAL AUTHENTICATE empty", []byte{0x00, 0x88, 0x00, 0x00, 0x00}, false},
		{"GET DATA long selector", append([]byte{0x00, 0xCA, 0x00, 0x00, 0x11}, make([]byte, 17)...), false},
		{"UPDATE BINARY", []byte{0x00, 0xD6, 0x00, 0x00, 0x01, 0x00}, false},
		{"WRITE BINARY", []byte{0x00, 0xD0, 0x00, 0x00, 0x01, 0x00}, false},
		{"PUT DATA", []byte{0x00, 0xDA, 0x01, 0x01, 0x01, 0x00}, false},
		{"UPDATE RECORD", []byte{0x00, 0xDC, 0x01, 0x04, 0x01, 0x00}, false},
		{"APPEND RECORD", []byte{0x00, 0xE2, 0x00, 0x00, 0x01, 0x00}, false},
		{"VERIFY", []byte{0x00, 0x20, 0x00, 0x81, 0x02, 0x31, 0x32}, false},
		{"CHANGE REFERENCE DATA", []byte{0x00, 0x24, 0x00, 0x81, 0x02, 0x31, 0x32}, false},
		{"RESET RETRY COUNTER", []byte{0x00, 0x2C, 0x00, 0x81}, false},
		{"EXTERNAL AUTHENTICATE", []byte{0x00, 0x82, 0x00, 0x00, 0x02, 1, 2}, false},
		{"GENERAL AUTHENTICATE", []byte{0x00, 0x86, 0x00, 0x00, 0x02, 1, 2}, false},
		{"MANAGE SECURITY ENV", []byte{0x00, 0x22, 0x41, 0xA4, 0x02, 1, 2}, false},
		{"PERFORM SECURITY OPERATION", []byte{0x00, 0x2A, 0x9E, 0x9A, 0x02, 1, 2}, false},
		{"TERMINATE CARD", []byte{0x00, 0xFE, 0x00, 0x00}, false},
		{"DEACTIVATE FILE", []byte{0x00, 0x04, 0x00, 0x00}, false},
		{"DELETE FILE", []byte{0x00, 0xE4, 0x00, 0x00}, false},
		{"MANAGE CHANNEL", []byte{0x00, 0x70, 0x00, 0x00, 0x01}, false},
		{"GET RESPONSE", []byte{0x00, 0xC0, 0x00, 0x00, 0x10}, false},
		{"ENVELOPE", []byte{0x00, 0xC2, 0x00, 0x00, 0x01, 0x00}, false},
		{"logical channel 1", []byte{0x01, 0xB0, 0x00, 0x00, 0x00}, false},
		{"chaining", []byte{0x10, 0x88, 0x00, 0x00, 0x01, 0x00}, false},
		{"proprietary class", []byte{0x80, 0xCA, 0x9F, 0x7F, 0x00}, false},
		{"secure messaging", []byte{0x0C, 0xB0, 0x00, 0x00, 0x00}, false},
		{"too short", []byte{0x00, 0xB0, 0x00}, false},
		{"empty", nil, false},
		{"extended Le", []byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x01, 0x00}, false},
		{"Lc beyond the data", []byte{0x00, 0x88, 0x00, 0x00, 0x04, 1, 2}, false},
		{"data beyond Lc", []byte{0x00, 0x88, 0x00, 0x00, 0x01, 1, 2, 3}, false},
		{"over the size limit", append([]byte{0x00, 0x88, 0x00, 0x00, 0xFF}, make([]byte, 257)...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckCommand(tc.apdu)
			if got := err == nil; got != tc.ok {
				t.Fatalf("CheckCommand(% X) = %v, want allowed %v", tc.apdu, err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrRelayRefused) {
				t.Errorf("CheckCommand error %v does not wrap ErrRelayRefused", err)
			}
		})
	}
}

// The relay limits agree with the card: a command at the size limit is
// a full short APDU.
func TestRelayLimits(t *testing.T) {
	full := append([]byte{0x00, 0x88, 0x00, 0x00, 0xFF}, make([]byte, 256)...)
	if len(full) != MaxRelayCommand {
		t.Fatalf("a full case 4 APDU is %d bytes, MaxRelayCommand %d", len(full), MaxRelayCommand)
	}
	if err := CheckCommand(full); err != nil {
		t.Errorf("CheckCommand(full case 4) = %v", err)
	}
}

// FuzzCheckCommand: no input panics, and whatever is allowed has the
// shape the allow-list promises.
func FuzzCheckCommand(f *testing.F) {
	f.Add(SelectNHI)
	f.Add(ReadProfileCmd)
	f.Add([]byte{0x00, 0xD6, 0x00, 0x00, 0x01, 0x00})
	f.Add([]byte{0x00, 0x88, 0x00, 0x00, 0x00, 0x00, 0x01})
	f.Fuzz(func(t *testing.T, apdu []byte) {
		if CheckCommand(apdu) != nil {
			return
		}
		if len(apdu) < 4 || len(apdu) > MaxRelayCommand || apdu[0] != 0 {
			t.Fatalf("allowed % X", apdu)
		}
		switch apdu[1] {
		case insSelect, insReadBinary, insReadRecord, insGetData, insGetChallenge, insInternalAuth:
		default:
			t.Fatalf("allowed INS %02X", apdu[1])
		}
	})
}
