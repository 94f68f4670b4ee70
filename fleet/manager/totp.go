package manager

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"
)

// TOTP second factor, RFC 6238 with its defaults (HMAC-SHA1, 30-second
// steps, 6 digits), which every authenticator app speaks. A code is
// accepted for the current step and one either side (clock drift), and
// only once: the step it was accepted for is remembered.

const (
	totpStep   = 30 * time.Second
	totpDigits = 6
)

func newTOTPSecret() []byte {
	b := make([]byte, 20) // RFC 4226 recommends 160 bits
	rand.Read(b)
	return b
}

// totpCode is the code of secret for time step n (RFC 4226 §5.3).
func totpCode(secret []byte, n int64) string {
	mac := hmac.New(sha1.New, secret)
	binary.Write(mac, binary.BigEndian, n)
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

// totpCheck reports whether code is secret's code for a step within one of
// now's and after last; it returns that step.
func totpCheck(secret []byte, code string, now time.Time, last int64) (int64, bool) {
	if len(secret) == 0 || len(code) != totpDigits {
		return 0, false
	}
	cur := now.Unix() / int64(totpStep/time.Second)
	for _, n := range []int64{cur - 1, cur, cur + 1} {
		if n > last && subtle.ConstantTimeCompare([]byte(totpCode(secret, n)), []byte(code)) == 1 {
			return n, true
		}
	}
	return 0, false
}

// totpSecretText is the secret as authenticator apps take it typed in.
func totpSecretText(secret []byte) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
}

// totpURI is the otpauth:// URI an authenticator app scans.
func totpURI(issuer, account string, secret []byte) string {
	v := url.Values{"secret": {totpSecretText(secret)}, "issuer": {issuer}, "algorithm": {"SHA1"},
		"digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + v.Encode()
}
