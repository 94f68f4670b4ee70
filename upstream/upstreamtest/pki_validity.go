package upstreamtest

import (
	"crypto/x509"
	"net"
	"testing"
	"time"
)

// ServerValid issues a server certificate for 127.0.0.1, localhost and
// ips, valid from from until until: a certificate that expired long ago,
// or is valid only later, for tests of a kiosk whose clock is wrong.
func (ca *CA) ServerValid(t testing.TB, from, until time.Time, ips ...net.IP) Pair {
	return ca.issue(t, "nhisim", nil, x509.ExtKeyUsageServerAuth, from, until, ips...)
}

// NewCAValid is NewCA valid from from until until.
func NewCAValid(t testing.TB, name string, from, until time.Time) *CA {
	t.Helper()
	return newCA(t, name, from, until)
}
