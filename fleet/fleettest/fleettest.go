// Package fleettest holds fakes and helpers for testing the fleet agent and
// fleetd: a CommandHandler that records what it was asked, a TCP proxy
// whose connections a test can kill (to trigger a Last Will), a throwaway
// TLS CA, and a health snapshot with only fake values.
//
// It is for tests only; nothing here belongs on a kiosk.
package fleettest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// Handler is a fleet.CommandHandler that records calls. Set SessionActive
// to make Screenshot refuse, BadConfig to make ReloadConfig refuse.
type Handler struct {
	mu            sync.Mutex
	Calls         []string
	SessionActive bool
	BadConfig     bool
	Language      string
}

func (h *Handler) record(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.Calls = append(h.Calls, s)
}

// CallsSnapshot returns a copy of the calls so far.
func (h *Handler) CallsSnapshot() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.Calls...)
}

// Reboot records the call.
func (h *Handler) Reboot(context.Context) error { h.record("reboot"); return nil }

// Restart records the call.
func (h *Handler) Restart(context.Context) error { h.record("restart"); return nil }

// SetMaintenance records the call.
func (h *Handler) SetMaintenance(_ context.Context, on bool) error {
	if on {
		h.record("maintenance_on")
	} else {
		h.record("maintenance_off")
	}
	return nil
}

// SetLanguage records the call.
func (h *Handler) SetLanguage(_ context.Context, lang string) error {
	h.record("set_language " + lang)
	h.mu.Lock()
	h.Language = lang
	h.mu.Unlock()
	return nil
}

// ReloadConfig records the call and refuses when BadConfig is set.
func (h *Handler) ReloadConfig(context.Context) error {
	h.record("reload_config")
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.BadConfig {
		return fleet.ErrInvalidConfig
	}
	return nil
}

// SelfTest records the call and reports a missing reader.
func (h *Handler) SelfTest(context.Context) (fleet.SelfTest, error) {
	h.record("self_test")
	return fleet.SelfTest{Reader: fleet.Check{Kind: "no_reader"}, Display: fleet.Check{OK: true},
		Upstream: fleet.Check{OK: true}, Disk: fleet.Check{OK: true}}, nil
}

// Screenshot records the call; it refuses while SessionActive.
func (h *Handler) Screenshot(context.Context) ([]byte, error) {
	h.record("screenshot")
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.SessionActive {
		return nil, fleet.ErrSessionActive
	}
	return []byte("\x89PNG\r\n\x1a\nfake"), nil
}

// Health returns a plausible health snapshot with fake values only.
func Health() fleet.Health {
	temp := 51.5
	return fleet.Health{UptimeS: 3600, CPUTempC: &temp, Load1: 0.4, MemUsedPct: 31, PermFreePct: 72,
		PermFreeBytes: 20 << 30, Reader: fleet.Reader{Present: true, Name: "ACS-ACR39U"}, Display: "fbdev",
		Upstream: fleet.UpstreamHealth{Reachable: true, LastLatencyMS: 42},
		Outbox:   fleet.Outbox{Depth: 0},
		Sessions: fleet.Sessions{Started: 12, Completed: 10, Aborted: map[fleet.AbortReason]uint64{fleet.AbortCardRemoved: 2}},
		Errors:   map[fleet.ErrorKind]uint64{fleet.ErrKindCard: 1}}
}

// Proxy forwards TCP connections to a target until Kill, which cuts every
// connection at once (as a pulled cable would) and refuses new ones.
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	killed bool
}

// NewProxy listens on loopback and forwards to target; it is closed at the
// end of the test.
func NewProxy(t testing.TB, target string) *Proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.Kill)
	return p
}

// Addr is the proxy's address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.killed {
			p.mu.Unlock()
			c.Close()
			u.Close()
			return
		}
		p.conns = append(p.conns, c, u)
		p.mu.Unlock()
		go func() { io.Copy(u, c); u.Close() }()
		go func() { io.Copy(c, u); c.Close() }()
	}
}

// Kill closes the listener and every forwarded connection.
func (p *Proxy) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killed = true
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// CA is a throwaway certificate authority with one server certificate for
// 127.0.0.1, written as PEM files into a test directory.
type CA struct {
	CAFile string
	Server tls.Certificate
}

// NewCA makes a CA and a server certificate for 127.0.0.1 and localhost.
func NewCA(t testing.TB) CA {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "nhikiosk test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return CA{CAFile: f, Server: tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}}
}

// ServerTLS is a TLS configuration presenting the server certificate.
func (c CA) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.Server}, MinVersion: tls.VersionTLS12}
}
