package upstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
)

// FromConfig builds the kiosk's Client from its configuration: mutual TLS
// with the kiosk's certificate for an https upstream, the CA bundle if
// given, the per-request timeout, and the outbox under data_dir/outbox when
// an age recipient is configured. Call Client.Run to send the outbox.
func FromConfig(c config.Config, logger *slog.Logger) (*Client, error) {
	u := c.Upstream
	hc, err := HTTPClient(u)
	if err != nil {
		return nil, err
	}
	var ob *Outbox
	if u.AgeRecipient != "" {
		if ob, err = OpenOutbox(filepath.Join(c.DataDir, "outbox"), u.AgeRecipient, logger); err != nil {
			return nil, err
		}
	}
	return New(Options{BaseURL: u.URL, HTTPClient: hc, Outbox: ob, Logger: logger}), nil
}

// HTTPClient returns the one http.Client for the upstream: timeouts on
// dial, TLS handshake, headers and the whole request, and for https the
// kiosk's client certificate and the configured CA.
func HTTPClient(u config.Upstream) (*http.Client, error) {
	timeout := u.Timeout.D()
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	var tc *tls.Config
	if strings.HasPrefix(u.URL, "https:") {
		var err error
		if tc, err = ClientTLS(u.ClientCertFile, u.ClientKeyFile, u.CAFile); err != nil {
			return nil, err
		}
	}
	return &http.Client{Transport: newTransport(timeout, tc), Timeout: timeout}, nil
}

// writeBuffer is the transport's write buffer: larger than any request
// the kiosk sends (the upstream takes at most 64 KiB), so a body always
// passes through the buffer, which zeroingConn clears, and is never
// handed to the connection directly from the caller's slice.
const writeBuffer = 72 << 10

// newTransport is the upstream's HTTP/1.1 transport. Its connections
// zero what they have sent (zeroingConn): the person's data then does
// not stay in the transport's write buffer after the request (issue 13).
// HTTP/2 is off: its framer keeps a copy of each frame that this cannot
// reach, and one kiosk's few requests gain nothing from it.
func newTransport(timeout time.Duration, tc *tls.Config) *http.Transport {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 nil,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
		WriteBufferSize:       writeBuffer,
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return zeroingConn{conn}, nil
		},
	}
	if tc != nil {
		tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cfg := tc.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName, _, _ = net.SplitHostPort(addr)
			}
			conn := tls.Client(raw, cfg)
			hctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if err := conn.HandshakeContext(hctx); err != nil {
				raw.Close()
				return nil, err
			}
			return zeroingConn{conn}, nil
		}
	}
	return tr
}

// zeroingConn clears what it has written: the transport writes from its
// own buffer (writeBuffer), which thus holds no request once sent. For
// TLS it sits above the encryption, whose records are sealed in place.
type zeroingConn struct{ net.Conn }

func (c zeroingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	clear(p[:n])
	return n, err
}

// ClientTLS loads the kiosk's certificate and key and the CA bundle (empty
// caFile: the system roots) into a TLS 1.2 client configuration (ECDHE,
// AEAD; see below why not 1.3).
func ClientTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load kiosk certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		// TLS 1.2 with ECDHE and AEAD suites only. Go's TLS 1.3 record
		// layer copies each record's plaintext into a buffer it may
		// outgrow and drop without zeroing (crypto/tls, halfConn.encrypt),
		// so about one run in ten left a password readable in the kiosk's
		// memory (TestNoPasswordCopiesAfterRequests); with 1.2 and an
		// AEAD the cipher reads the plaintext from the transport's buffer,
		// which zeroingConn clears (issue 13). Forward secrecy is kept;
		// what 1.2 shows a listener is the kiosk's certificate.
		MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{
			tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
			tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
			tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		}}
	if caFile != "" {
		pool, err := LoadPool(caFile)
		if err != nil {
			return nil, err
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// LoadPool reads a PEM CA bundle.
func LoadPool(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA bundle %s: no PEM certificates", file)
	}
	return pool, nil
}
