package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
)

// PathTime is the upstream's clock (issue 21).
const PathTime = "/v1/time"

// ServerTime is the answer of GET /v1/time.
type ServerTime struct {
	// Time is the upstream's clock when it answered (RFC 3339, UTC).
	Time time.Time `json:"time"`
}

// maxTimeBody bounds the answer read.
const maxTimeBody = 4 << 10

// ParseServerTime decodes GET /v1/time's body; the time must be set.
func ParseServerTime(b []byte) (ServerTime, error) {
	var st ServerTime
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&st); err != nil {
		return ServerTime{}, fmt.Errorf("parse time: %w", err)
	}
	if st.Time.IsZero() {
		return ServerTime{}, errors.New("parse time: no time in the answer")
	}
	return st, nil
}

// TimeSource asks the upstream for the time, for a kiosk whose own clock
// cannot be believed (a Raspberry Pi boots in 1970). Its TLS cannot check
// the upstream's certificate against the kiosk's clock, so it checks it
// against the time the upstream tells: the certificate chain must be valid
// at that time, and that time no earlier than the floor the caller gives
// (the image's build time, the time saved at the last run). Someone who
// holds the key of a certificate that expired before the floor therefore
// cannot move the kiosk's clock back into its validity. The handshake
// itself (mutual TLS, the kiosk's certificate) is as for every call; only
// the moment the chain is checked at differs.
type TimeSource struct {
	base, host string
	certs      []tls.Certificate
	roots      *x509.CertPool // nil: the system's
	timeout    time.Duration
}

// NewTimeSource builds the time source for an https upstream u (a plain
// http upstream, nhisim -dev on loopback, has no authenticated time: an
// error).
func NewTimeSource(u config.Upstream) (*TimeSource, error) {
	pu, err := url.Parse(u.URL)
	if err != nil || pu.Scheme != "https" {
		return nil, fmt.Errorf("upstream time: %q is not an https URL", u.URL)
	}
	tc, err := ClientTLS(u.ClientCertFile, u.ClientKeyFile, u.CAFile)
	if err != nil {
		return nil, fmt.Errorf("upstream time: %w", err)
	}
	timeout := u.Timeout.D()
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	return &TimeSource{base: pu.Scheme + "://" + pu.Host + pu.EscapedPath(), host: pu.Hostname(),
		certs: tc.Certificates, roots: tc.RootCAs, timeout: timeout}, nil
}

// Host is the upstream's host name, as configured.
func (s *TimeSource) Host() string { return s.host }

// Time asks GET /v1/time over a fresh connection and returns the time now:
// the upstream's time plus half the wait for its answer. It fails unless
// the upstream's certificate chain is valid at that time and the time is
// not before floor. Bounded by ctx and the upstream timeout; safe for
// concurrent use.
func (s *TimeSource) Time(ctx context.Context, floor time.Time) (time.Time, error) {
	var peer []*x509.Certificate
	tc := &tls.Config{
		Certificates: s.certs,
		MinVersion:   tls.VersionTLS12,
		ServerName:   s.host,
		// The chain is checked in VerifyConnection, at a time of ours:
		// crypto/tls still checks the server's handshake signature.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			peer = cs.PeerCertificates
			return s.verify(peer, earliestValid(peer, floor))
		},
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: s.timeout}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   s.timeout,
		ResponseHeaderTimeout: s.timeout,
		DisableKeepAlives:     true, // each answer comes with the chain it was checked with
	}
	defer tr.CloseIdleConnections()
	var wrote, first time.Time
	trace := &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { wrote = time.Now() },
		GotFirstResponseByte: func() { first = time.Now() },
	}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(ctx, trace), http.MethodGet, s.base+PathTime, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("upstream time: %w", err)
	}
	resp, err := (&http.Client{Transport: tr, Timeout: s.timeout}).Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("upstream time: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTimeBody))
	if err != nil {
		return time.Time{}, fmt.Errorf("upstream time: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, fmt.Errorf("upstream time: status %d", resp.StatusCode)
	}
	st, err := ParseServerTime(body)
	if err != nil {
		return time.Time{}, fmt.Errorf("upstream time: %w", err)
	}
	t := st.Time.Add(first.Sub(wrote)/2 + time.Since(first))
	if t.Before(floor) {
		return time.Time{}, fmt.Errorf("upstream time: %s is before the floor %s", t.UTC().Format(time.RFC3339), floor.UTC().Format(time.RFC3339))
	}
	if err := s.verify(peer, t); err != nil {
		return time.Time{}, fmt.Errorf("upstream time: the certificate is not valid at the time it tells: %w", err)
	}
	return t, nil
}

// verify checks the upstream's chain for its host name at time at.
func (s *TimeSource) verify(peer []*x509.Certificate, at time.Time) error {
	if len(peer) == 0 {
		return errors.New("no certificate from the upstream")
	}
	inter := x509.NewCertPool()
	for _, c := range peer[1:] {
		inter.AddCert(c)
	}
	_, err := peer[0].Verify(x509.VerifyOptions{Roots: s.roots, Intermediates: inter, DNSName: s.host,
		CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

// earliestValid is the earliest time not before floor at which every
// certificate of the chain has begun to be valid: if the chain does not
// verify then, it never verifies at a time the kiosk would believe.
func earliestValid(chain []*x509.Certificate, floor time.Time) time.Time {
	t := floor
	for _, c := range chain {
		if c.NotBefore.After(t) {
			t = c.NotBefore
		}
	}
	return t
}
