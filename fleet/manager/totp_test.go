package manager

import (
	"testing"
	"time"
)

// TestTOTPVectors checks the RFC 6238 appendix B vectors (SHA-1, the last
// six digits of its eight).
func TestTOTPVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, tt := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got := totpCode(secret, tt.unix/30); got != tt.want {
			t.Errorf("totpCode(T=%d) = %s, want %s", tt.unix, got, tt.want)
		}
	}
}

func TestTOTPCheck(t *testing.T) {
	secret := newTOTPSecret()
	now := time.Unix(1_800_000_000, 0)
	cur := now.Unix() / 30
	tests := []struct {
		name string
		code string
		last int64
		ok   bool
	}{
		{"current", totpCode(secret, cur), 0, true},
		{"previous step (clock drift)", totpCode(secret, cur-1), 0, true},
		{"next step", totpCode(secret, cur+1), 0, true},
		{"two steps old", totpCode(secret, cur-2), 0, false},
		{"used already", totpCode(secret, cur), cur, false},
		{"wrong", "000000", 0, totpCode(secret, cur) == "000000"},
		{"short", "12345", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, ok := totpCheck(secret, tt.code, now, tt.last); ok != tt.ok {
				t.Errorf("totpCheck = %v, want %v", ok, tt.ok)
			}
		})
	}
}
