package upstream_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/upstream"
	"github.com/nhikiosk/nhikiosk/upstream/server"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// timeRig is an nhisim over mutual TLS whose clock and server certificate
// the test chooses, and the kiosk's TimeSource for it.
func timeRig(t *testing.T, ca *upstreamtest.CA, srv upstreamtest.Pair, now func() time.Time) *upstream.TimeSource {
	t.Helper()
	tc, err := server.TLSConfig(srv.CertFile, srv.KeyFile, ca.PEMFile)
	if err != nil {
		t.Fatal(err)
	}
	sim := upstreamtest.Start(t, server.Options{Now: now}, tc)
	kiosk := ca.Client(t, "kiosk-1")
	ts, err := upstream.NewTimeSource(config.Upstream{URL: sim.URL, ClientCertFile: kiosk.CertFile,
		ClientKeyFile: kiosk.KeyFile, CAFile: ca.PEMFile, Timeout: config.Duration(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// TestTimeSource takes the time from nhisim over mutual TLS, with the
// kiosk's floor a month back: it is the server's time, within the round
// trip.
func TestTimeSource(t *testing.T) {
	ca := upstreamtest.NewCA(t, "nhi-kiosks")
	ts := timeRig(t, ca, ca.Server(t), time.Now)
	got, err := ts.Time(context.Background(), time.Now().AddDate(0, -1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(got); d < -time.Second || d > time.Second {
		t.Errorf("Time = %v, %v from now", got, d)
	}
}

// TestTimeSourceRefuses: the upstream's certificate is checked at the
// time it tells, which must not be before the floor. An attacker holding
// the key of a certificate that expired before the floor (valid from 10
// to 5 days ago; the image built yesterday) cannot set the kiosk back into
// its validity; a server whose time lies outside its certificate is
// refused; and a server from another CA is refused outright.
func TestTimeSourceRefuses(t *testing.T) {
	now := time.Now()
	ca := upstreamtest.NewCAValid(t, "nhi-kiosks", now.AddDate(-1, 0, 0), now.AddDate(1, 0, 0))
	old := ca.ServerValid(t, now.AddDate(0, 0, -10), now.AddDate(0, 0, -5))
	backThen := func() time.Time { return now.AddDate(0, 0, -7) }
	tests := []struct {
		name  string
		srv   upstreamtest.Pair
		clock func() time.Time
		floor time.Time
		want  string // "" succeeds
	}{
		{"expired key, floor after it", old, backThen, now.AddDate(0, 0, -1), "certificate has expired"},
		{"expired key, floor before it", old, backThen, now.AddDate(0, -1, 0), ""},
		{"time after the certificate", ca.Server(t), func() time.Time { return now.AddDate(0, 0, 3) }, now.AddDate(0, 0, -1), "not valid at the time it tells"},
		{"time before the floor", ca.Server(t), func() time.Time { return now.Add(-30 * time.Minute) }, now, "before the floor"},
		{"another CA", upstreamtest.NewCA(t, "elsewhere").Server(t), time.Now, now.AddDate(0, 0, -1), "unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := timeRig(t, ca, tt.srv, tt.clock)
			got, err := ts.Time(context.Background(), tt.floor)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Time: %v", err)
				}
				if d := got.Sub(tt.clock()); d < -time.Second || d > time.Second {
					t.Errorf("Time = %v, want %v", got, tt.clock())
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Time = %v, %v; want an error with %q", got, err, tt.want)
			}
		})
	}
}

// TestTimeSourceHTTP: a plain http upstream (nhisim -dev) has no
// authenticated time.
func TestTimeSourceHTTP(t *testing.T) {
	if _, err := upstream.NewTimeSource(config.Upstream{URL: "http://127.0.0.1:8080"}); err == nil {
		t.Fatal("NewTimeSource(http) succeeded")
	}
}

// TestTimeUnreachable: nothing listens; Time fails within its context.
func TestTimeUnreachable(t *testing.T) {
	ca := upstreamtest.NewCA(t, "nhi-kiosks")
	kiosk := ca.Client(t, "kiosk-1")
	ts, err := upstream.NewTimeSource(config.Upstream{URL: "https://127.0.0.1:9", ClientCertFile: kiosk.CertFile,
		ClientKeyFile: kiosk.KeyFile, CAFile: ca.PEMFile, Timeout: config.Duration(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Time(context.Background(), time.Now().AddDate(0, 0, -1)); err == nil {
		t.Fatal("Time from a closed port succeeded")
	}
}

// FuzzParseServerTime: any answer body parses into a set time or fails.
func FuzzParseServerTime(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-30T14:05:09.123456789Z"}`))
	f.Add([]byte(`{"time":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"time":null,"other":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := upstream.ParseServerTime(b)
		if err == nil && st.Time.IsZero() {
			t.Fatalf("ParseServerTime(%q) = zero time without error", b)
		}
	})
}
