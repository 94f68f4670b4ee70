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
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
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
	// Local is the kiosk's own configuration central ones are applied
	// over, Applied the central configuration it runs.
	Local   config.Config
	Applied config.Overlay
	// SetHash, if set, is told the hash of a configuration it took (the
	// agent's SetConfigHash, as a kiosk that runs it at once).
	SetHash func(fleet.Token)
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

// ApplyConfig takes a central configuration over Local (config.Reference
// when unset) by config's own rules, so a configuration invalid for this
// kiosk's panel is refused as a real kiosk would refuse it; it records
// "apply_config HASH" or "apply_config refused".
func (h *Handler) ApplyConfig(_ context.Context, o config.Overlay) (fleet.Token, error) {
	h.mu.Lock()
	local := h.Local
	if local.Site == "" {
		local = config.Reference()
	}
	c, err := o.Apply(local)
	if err != nil {
		// It keeps what it runs, and says what that is for the fields
		// it was asked to change.
		running, rerr := h.Applied.Apply(local)
		if rerr != nil {
			running = local
		}
		h.mu.Unlock()
		h.record("apply_config refused")
		return fleet.Token(config.EffectiveHash(running, o)), fmt.Errorf("%w: %w", fleet.ErrInvalidConfig, err)
	}
	h.Applied = o
	hash := fleet.Token(config.EffectiveHash(c, o))
	set := h.SetHash
	h.mu.Unlock()
	h.record("apply_config " + string(hash))
	if set != nil {
		set(hash)
	}
	return hash, nil
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

// Proxy forwards TCP connections to a target. Kill cuts every connection
// at once (as a pulled cable would) and refuses new ones for good; Cut
// does the same until Restore; Freeze black-holes the connections: they
// stay open but nothing passes any more and a side that closes is not
// told to the other (a kiosk whose process died behind a dead link, so
// the broker sends no Last Will until its keep-alive runs out).
type Proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	killed bool
	cut    bool
	frozen bool
	opened int
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
		p.mu.Lock()
		refuse := p.killed || p.cut
		p.mu.Unlock()
		if refuse {
			c.Close()
			continue
		}
		u, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		if p.killed || p.cut {
			p.mu.Unlock()
			c.Close()
			u.Close()
			continue
		}
		p.conns = append(p.conns, c, u)
		p.opened++
		p.mu.Unlock()
		go p.pipe(u, c)
		go p.pipe(c, u)
	}
}

// pipe copies from src to dst until src ends, then closes dst, unless
// the proxy is frozen: then bytes vanish and nothing is closed.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		frozen := p.frozen
		p.mu.Unlock()
		if n > 0 && !frozen {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if !frozen {
				dst.Close()
			}
			return
		}
	}
}

// Kill closes the listener and every forwarded connection.
func (p *Proxy) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killed, p.frozen = true, false
	p.ln.Close()
	p.closeAll()
}

// Cut closes every forwarded connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	p.closeAll()
}

// Restore accepts connections again after Cut.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Freeze black-holes every connection and refuses new ones: nothing
// passes, nothing is closed.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen, p.cut = true, true
}

// Opened is how many connections the proxy has forwarded so far.
func (p *Proxy) Opened() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opened
}

func (p *Proxy) closeAll() {
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
	// ServerCertFile and ServerKeyFile hold the server certificate and
	// its key as PEM.
	ServerCertFile, ServerKeyFile string
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
	dir := t.TempDir()
	ca := CA{CAFile: filepath.Join(dir, "ca.pem"), Server: tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey},
		ServerCertFile: filepath.Join(dir, "server.pem"), ServerKeyFile: filepath.Join(dir, "server.key")}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	for f, b := range map[string]*pem.Block{ca.CAFile: {Type: "CERTIFICATE", Bytes: caDER},
		ca.ServerCertFile: {Type: "CERTIFICATE", Bytes: srvDER}, ca.ServerKeyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(f, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca
}

// ServerTLS is a TLS configuration presenting the server certificate.
func (c CA) ServerTLS() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{c.Server}, MinVersion: tls.VersionTLS12}
}
