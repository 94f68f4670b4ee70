package upstream

import (
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
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
		ForceAttemptHTTP2:     true,
	}
	if strings.HasPrefix(u.URL, "https:") {
		tc, err := ClientTLS(u.ClientCertFile, u.ClientKeyFile, u.CAFile)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	return &http.Client{Transport: tr, Timeout: timeout}, nil
}

// ClientTLS loads the kiosk's certificate and key and the CA bundle (empty
// caFile: the system roots) into a TLS 1.2+ client configuration.
func ClientTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load kiosk certificate: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
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
