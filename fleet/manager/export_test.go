package manager

import "time"

// TOTPCodeForTest is the second-factor code of secret at time t, as an
// authenticator app shows it.
func TOTPCodeForTest(secret []byte, t time.Time) string {
	return totpCode(secret, t.Unix()/int64(totpStep/time.Second))
}
