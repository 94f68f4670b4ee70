package main

import (
	"bufio"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
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
	secret, _ := loadOrCreate(filepath.Join(data, secretFile), 32)
	signer, _ := loadSigner(data)
	sctx, scancel := context.WithCancel(ctx)
	simDone := make(chan struct{})
	go func() {
		sim.Run(sctx, sim.Options{N: 3, Sites: 1, BrokerURL: banner["broker"], Dir: t.TempDir(),
			Password:     func(k fleet.KioskRef) string { return broker.KioskPassword(secret, k) },
			OperatorKeys: signer.PublicLine(), HealthInterval: time.Second}, &sim.Stats{})
		close(simDone)
	}()
	defer func() { scancel(); <-simDone }()

	c := apiClient{base: banner["http"], user: "admin", pass: banner["password"], http: &http.Client{Timeout: 5 * time.Second}}
	var ks []manager.Kiosk
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end) && len(ks) < 3; time.Sleep(100 * time.Millisecond) {
		if err := c.do("GET", "/api/v1/kiosks", nil, &ks); err != nil {
			t.Fatal(err)
		}
	}
	if len(ks) != 3 {
		t.Fatalf("fleetd knows %d kiosks, want 3", len(ks))
	}
	if err := c.command([]string{ks[0].Name, "self_test"}, 15*time.Second); err != nil {
		t.Errorf("fleetd cmd %s self_test: %v", ks[0].Name, err)
	}
	// The signing key and secret are kept: a restart keeps the kiosks' trust.
	if again, _ := loadSigner(data); again.PublicLine() != signer.PublicLine() {
		t.Error("operator key changed between loads")
	}
}
