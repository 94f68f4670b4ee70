// Package upstreamtest helps tests of the upstream API: it makes a
// throwaway PKI (CA, server and kiosk certificates, generated in the test,
// never committed), starts an in-process nhisim on loopback, and builds
// fake people that pass every rule. Test code only.
package upstreamtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a throwaway certificate authority.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	PEMFile string // its certificate, PEM
	dir     string
	n       int
}

// Pair is a certificate and key written as PEM files.
type Pair struct {
	CertFile, KeyFile string
}

// NewCA makes a CA whose files live in t.TempDir().
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	return newCA(t, name, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

func newCA(t testing.TB, name string, from, until time.Time) *CA {
	t.Helper()
	key := mustKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             from,
		NotAfter:              until,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create CA: %v", err)
	}
	cert, _ := x509.ParseCertificate(der)
	dir := t.TempDir()
	ca := &CA{Cert: cert, Key: key, dir: dir, PEMFile: filepath.Join(dir, name+"-ca.pem")}
	writePEM(t, ca.PEMFile, "CERTIFICATE", der)
	return ca
}

// Server issues a server certificate for 127.0.0.1 and localhost.
func (ca *CA) Server(t testing.TB) Pair {
	return ca.issue(t, "nhisim", nil, x509.ExtKeyUsageServerAuth, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// ServerFor issues a server certificate for 127.0.0.1, localhost and ips
// too (10.0.2.2, the host as a QEMU guest on user networking sees it).
func (ca *CA) ServerFor(t testing.TB, ips ...net.IP) Pair {
	return ca.issue(t, "nhisim", nil, x509.ExtKeyUsageServerAuth, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour), ips...)
}

// Client issues a kiosk's client certificate (role upstream.RoleKiosk:
// OU=kiosk).
func (ca *CA) Client(t testing.TB, kiosk string) Pair {
	return ca.WithRoles(t, kiosk, "kiosk")
}

// Phone issues a phone's client certificate (role upstream.RolePhone:
// OU=phone): it may only bind.
func (ca *CA) Phone(t testing.TB, name string) Pair {
	return ca.WithRoles(t, name, "phone")
}

// WithRoles issues a client certificate whose organizational units are
// roles (none: a certificate with no role, which nhisim refuses).
func (ca *CA) WithRoles(t testing.TB, cn string, roles ...string) Pair {
	return ca.issue(t, cn, roles, x509.ExtKeyUsageClientAuth, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// ExpiredClient issues a kiosk certificate that expired an hour ago.
func (ca *CA) ExpiredClient(t testing.TB, kiosk string) Pair {
	return ca.issue(t, kiosk, []string{"kiosk"}, x509.ExtKeyUsageClientAuth, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
}

func (ca *CA) issue(t testing.TB, cn string, roles []string, usage x509.ExtKeyUsage, from, until time.Time, ips ...net.IP) Pair {
	t.Helper()
	key := mustKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: cn, OrganizationalUnit: roles},
		NotBefore:    from,
		NotAfter:     until,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	if usage == x509.ExtKeyUsageServerAuth {
		tmpl.IPAddresses = append([]net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, ips...)
		tmpl.DNSNames = []string{"localhost"}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatalf("issue %s: %v", cn, err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	ca.n++ // one pair of files per certificate issued
	name := fmt.Sprintf("%s-%d", cn, ca.n)
	p := Pair{CertFile: filepath.Join(ca.dir, name+".pem"), KeyFile: filepath.Join(ca.dir, name+"-key.pem")}
	writePEM(t, p.CertFile, "CERTIFICATE", der)
	writePEM(t, p.KeyFile, "EC PRIVATE KEY", kb)
	return p
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
