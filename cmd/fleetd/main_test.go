package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
	"github.com/nhikiosk/nhikiosk/fleet/sim"
)

// TestServeSimulateCommand runs fleetd as `fleetd` with no flags would (on
// free ports), reads its banner, runs three simulated kiosks against its
// embedded broker, lists them through the API and sends one a command.
func TestServeSimulateCommand(t *testing.T) {
	data := t.TempDir()
	r, w, _ := os.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- serveCtx(ctx, serveFlags{data: data, httpAddr: "127.0.0.1:0", mqttAddr: "127.0.0.1:0",
			retention: time.Hour, historyEvery: time.Minute}, w)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	banner := map[string]string{}
	sc := bufio.NewScanner(r)
	re := regexp.MustCompile(`dashboard  (http://\S+)/|one-time password (\S+)|embedded broker (mqtt://\S+)`)
	for len(banner) < 3 && sc.Scan() {
		if m := re.FindStringSubmatch(sc.Text()); m != nil {
			for i, k := range []string{"", "http", "password", "broker"} {
				if i > 0 && m[i] != "" {
					banner[k] = m[i]
				}
			}
		}
	}
	if len(banner) != 3 {
		t.Fatalf("banner lacks the dashboard, password or broker: %v", banner)
	}
	signer, _ := loadSigner(data)
	c := apiClient{base: banner["http"], user: "admin", pass: banner["password"], http: &http.Client{Timeout: 30 * time.Second}}
	names := []string{sim.Ref(0, 1).String(), sim.Ref(1, 1).String(), sim.Ref(2, 1).String()}
	creds, err := c.enroll(names)
	if err != nil {
		t.Fatalf("enroll: %v", err)
	}
	pw := map[string]string{}
	for _, cr := range creds {
		pw[cr.Kiosk] = cr.Password
		if cr.OperatorKey != signer.PublicLine() {
			t.Errorf("enrollment gives operator key %q, want %q", cr.OperatorKey, signer.PublicLine())
		}
	}
	sctx, scancel := context.WithCancel(ctx)
	simDone := make(chan struct{})
	go func() {
		sim.Run(sctx, sim.Options{N: 3, Sites: 1, BrokerURL: banner["broker"], Dir: t.TempDir(),
			Password:     func(k fleet.KioskRef) string { return pw[k.String()] },
			OperatorKeys: signer.PublicLine(), HealthInterval: time.Second}, &sim.Stats{})
		close(simDone)
	}()
	defer func() { scancel(); <-simDone }()

	var ks manager.KioskList
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end) && onlineCount(ks) < 3; time.Sleep(100 * time.Millisecond) {
		if err := c.do("GET", "/api/v1/kiosks", nil, &ks); err != nil {
			t.Fatal(err)
		}
	}
	if onlineCount(ks) != 3 {
		t.Fatalf("fleetd has %d kiosks online, want 3: %+v", onlineCount(ks), ks)
	}
	if err := c.command([]string{ks.Kiosks[0].Name, "self_test"}, 15*time.Second); err != nil {
		t.Errorf("fleetd cmd %s self_test: %v", ks.Kiosks[0].Name, err)
	}
	// The signing key and secret are kept: a restart keeps the kiosks' trust.
	if again, _ := loadSigner(data); again.PublicLine() != signer.PublicLine() {
		t.Error("operator key changed between loads")
	}
}

func onlineCount(l manager.KioskList) int {
	n := 0
	for _, k := range l.Kiosks {
		if k.Status == manager.StatusOnline || k.Status == manager.StatusFaulty {
			n++
		}
	}
	return n
}
