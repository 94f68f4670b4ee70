package upstream_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// TestMutualTLS runs nhisim's TLS configuration in process and connects
// with the kiosk's client built from config: only a valid certificate
// from the configured CA gets through.
func TestMutualTLS(t *testing.T) {
	ca := upstreamtest.NewCA(t, "nhi-kiosks")
	srvPair := ca.Server(t)
	tc, err := server.TLSConfig(srvPair.CertFile, srvPair.KeyFile, ca.PEMFile)
	if err != nil {
		t.Fatal(err)
	}
	sim := upstreamtest.Start(t, server.Options{}, tc)
	other := upstreamtest.NewCA(t, "elsewhere")
	good := ca.Client(t, "kiosk-1")
	tests := []struct {
		name string
		cert upstreamtest.Pair
		ok   bool
	}{
		{"valid kiosk certificate", good, true},
		{"no certificate", upstreamtest.Pair{}, false},
		{"certificate from another CA", other.Client(t, "kiosk-1"), false},
		{"expired certificate", ca.ExpiredClient(t, "kiosk-1"), false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := config.Default()
			c.DataDir = t.TempDir()
			c.Upstream = config.Upstream{URL: sim.URL, ClientCertFile: tt.cert.CertFile, ClientKeyFile: tt.cert.KeyFile,
				CAFile: ca.PEMFile, Timeout: config.Duration(5 * time.Second)}
			var cl *upstream.Client
			if tt.cert.CertFile == "" {
				// No client certificate at all: only the CA is configured.
				pool, err := upstream.LoadPool(ca.PEMFile)
				if err != nil {
					t.Fatal(err)
				}
				hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
					TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
				cl = upstream.New(upstream.Options{BaseURL: sim.URL, HTTPClient: hc, Attempts: 1, CardProver: upstreamtest.Genuine})
			} else {
				var err error
				if cl, err = upstream.FromConfig(c, nil); err != nil {
					t.Fatal(err)
				}
				cl = cl.WithCardProver(upstreamtest.Genuine)
			}
			before := sim.Server.Stats().Created
			_, err := cl.Register(context.Background(), upstreamtest.Person(60+i))
			if tt.ok && err != nil {
				t.Fatalf("Register = %v, want success", err)
			}
			if !tt.ok && !errors.Is(err, upstream.ErrUnavailable) {
				t.Fatalf("Register = %v, want refused (ErrUnavailable)", err)
			}
			if got := sim.Server.Stats().Created - before; tt.ok != (got == 1) {
				t.Errorf("created %d", got)
			}
		})
	}
}

// TestSessionBoundToKiosk: a session token works only on connections
// with the client certificate of the kiosk that logged in.
func TestSessionBoundToKiosk(t *testing.T) {
	ca := upstreamtest.NewCA(t, "nhi-kiosks")
	srvPair := ca.Server(t)
	tc, err := server.TLSConfig(srvPair.CertFile, srvPair.KeyFile, ca.PEMFile)
	if err != nil {
		t.Fatal(err)
	}
	box := upstreamtest.NewMailbox()
	sim := upstreamtest.Start(t, server.Options{Mailer: box}, tc)
	kiosk := func(name string) *upstream.Client {
		pair := ca.Client(t, name)
		c := config.Default()
		c.DataDir = t.TempDir()
		c.Upstream = config.Upstream{URL: sim.URL, ClientCertFile: pair.CertFile, ClientKeyFile: pair.KeyFile,
			CAFile: ca.PEMFile, Timeout: config.Duration(5 * time.Second)}
		cl, err := upstream.FromConfig(c, nil)
		if err != nil {
			t.Fatal(err)
		}
		return cl.WithCardProver(upstreamtest.Genuine)
	}
	k1, k2 := kiosk("kiosk-1"), kiosk("kiosk-2")
	ctx := context.Background()
	p := upstreamtest.Person(70)
	if _, err := k1.Register(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := k1.Verify(ctx, p.CardNumber, p.IDNumber, box.WaitCode(t, p.Contact.Email, 1)); err != nil {
		t.Fatal(err)
	}
	s, err := k1.Login(ctx, p.CardNumber, p.IDNumber, p.Password)
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if _, err := s.Account(ctx); err != nil {
		t.Fatalf("Account on the same kiosk: %v", err)
	}
	_, err = upstream.SessionOn(k2, s).Account(ctx)
	if upstream.Code(err) != upstream.ErrCodeUnauthorized {
		t.Fatalf("Account on another kiosk = %v, want 401 unauthorized", err)
	}
}
