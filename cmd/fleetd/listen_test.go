package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
)

// TestPlainListenRefused: finding 7 — -http 0.0.0.0 and -mqtt 0.0.0.0
// served plain HTTP and MQTT without a word.
func TestPlainListenRefused(t *testing.T) {
	for _, tt := range []struct {
		name string
		f    serveFlags
	}{
		{"dashboard on every interface", serveFlags{httpAddr: "0.0.0.0:0", mqttAddr: "127.0.0.1:0"}},
		{"dashboard on all, by empty host", serveFlags{httpAddr: ":0", mqttAddr: "127.0.0.1:0"}},
		{"broker on every interface", serveFlags{httpAddr: "127.0.0.1:0", mqttAddr: "0.0.0.0:0"}},
		{"broker on an IPv6 wildcard", serveFlags{httpAddr: "127.0.0.1:0", mqttAddr: "[::]:0"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.f.data = t.TempDir()
			err := serveCtx(context.Background(), tt.f, io.Discard)
			if !errors.Is(err, errPlainListen) || !strings.Contains(err.Error(), "-insecure-listen") {
				t.Errorf("serve = %v, want a refusal naming -insecure-listen", err)
			}
		})
	}
	for _, tt := range []struct {
		addr          string
		tls, insecure bool
		want          bool
	}{
		{"127.0.0.1:8080", false, false, true},
		{"localhost:8080", false, false, true},
		{"[::1]:8080", false, false, true},
		{"0.0.0.0:8080", false, false, false},
		{"0.0.0.0:8080", true, false, true},
		{"0.0.0.0:8080", false, true, true},
		{"192.0.2.10:8080", false, false, false},
	} {
		if got := checkListen("x", tt.addr, tt.tls, tt.insecure) == nil; got != tt.want {
			t.Errorf("checkListen(%q, tls=%v, insecure=%v) allowed = %v, want %v", tt.addr, tt.tls, tt.insecure, got, tt.want)
		}
	}
}

// TestDashboardTLS: finding 7 — no TLS for the dashboard and a session
// cookie without Secure. With -http-tls-cert/-key it is HTTPS, its cookie
// Secure, and it tells browsers to stay on HTTPS.
func TestDashboardTLS(t *testing.T) {
	ca := fleettest.NewCA(t)
	r, w, _ := os.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveCtx(ctx, serveFlags{data: t.TempDir(), httpAddr: "127.0.0.1:0", mqttAddr: "127.0.0.1:0",
			httpCert: ca.ServerCertFile, httpKey: ca.ServerKeyFile, retention: time.Hour, historyEvery: time.Minute}, w)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	var banner []byte
	sc := bufio.NewScanner(r)
	for sc.Scan() && !strings.Contains(sc.Text(), "operator key") {
		banner = append(append(banner, sc.Bytes()...), '\n')
	}
	m := regexp.MustCompile(`dashboard  (\S+)/\n.*one-time password (\S+)`).FindSubmatch(banner)
	if m == nil || !strings.HasPrefix(string(m[1]), "https://") {
		t.Fatalf("banner: %s", banner)
	}
	pem, _ := os.ReadFile(ca.CAFile)
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.PostForm(string(m[1])+"/login", url.Values{"user": {"admin"}, "password": {string(m[2])}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "fleetd_session" {
			session = ck
		}
	}
	if session == nil || !session.Secure || !session.HttpOnly {
		t.Errorf("session cookie = %+v, want Secure and HttpOnly", session)
	}
	if h := resp.Header.Get("Strict-Transport-Security"); h == "" {
		t.Error("no Strict-Transport-Security header over HTTPS")
	}
	if resp, err := http.Get(strings.Replace(string(m[1]), "https://", "http://", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("the HTTPS dashboard also served plain HTTP")
		}
	}
}
