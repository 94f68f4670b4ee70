package manager_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
)

func (f *fleetUnderTest) api(method, path, user, pass, body string) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.web.URL+path, strings.NewReader(body))
	req.SetBasicAuth(user, pass)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAPIRolesAndAudit: a viewer reads but cannot command; an operator's
// command is answered, and audited under its name.
func TestAPIRolesAndAudit(t *testing.T) {
	f := startFleet(t)
	h := &fleettest.Handler{SessionActive: true}
	f.kiosk("taipei-branch/k1", h)
	f.waitStatus("taipei-branch/k1", manager.StatusOnline)

	if code, _ := f.api("GET", "/api/v1/kiosks", "viewer", "wrong", ""); code != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", code)
	}
	code, body := f.api("GET", "/api/v1/kiosks?status=online", "viewer", "test-viewer-pw", "")
	var list manager.KioskList
	json.Unmarshal([]byte(body), &list)
	if ks := list.Kiosks; code != 200 || len(ks) != 1 || ks[0].Birth == nil || ks[0].Birth.Version != "v1.4.2" {
		t.Errorf("viewer GET kiosks = %d %s", code, body)
	}
	if code, _ := f.api("POST", "/api/v1/kiosks/taipei-branch/k1/commands", "viewer", "test-viewer-pw", `{"name":"reboot"}`); code != http.StatusForbidden {
		t.Errorf("viewer command: status %d, want 403", code)
	}
	code, body = f.api("POST", "/api/v1/kiosks/taipei-branch/k1/commands", "op", "test-operator-pw", `{"name":"screenshot"}`)
	var rec manager.CommandRecord
	if json.Unmarshal([]byte(body), &rec); code != http.StatusAccepted || rec.ID == "" {
		t.Fatalf("operator command = %d %s", code, body)
	}
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && rec.Ack == nil; time.Sleep(50 * time.Millisecond) {
		_, body = f.api("GET", "/api/v1/commands/"+string(rec.ID), "viewer", "test-viewer-pw", "")
		json.Unmarshal([]byte(body), &rec)
	}
	if rec.Ack == nil || rec.Ack.Status != fleet.AckRefused || rec.Ack.Reason != fleet.ReasonSessionActive {
		t.Errorf("screenshot during a session: ack %+v, want refused session_active", rec.Ack)
	}
	_, body = f.api("GET", "/api/v1/audit", "viewer", "test-viewer-pw", "")
	if !strings.Contains(body, `"user": "op"`) || !strings.Contains(body, "screenshot "+string(rec.ID)) {
		t.Errorf("audit = %s, want the screenshot by op", body)
	}
	_, metrics := f.api("GET", "/metrics", "", "", "")
	if !strings.Contains(metrics, `fleetd_kiosks{status="online"} 1`) || !strings.Contains(metrics, "fleetd_commands_sent_total 1") {
		t.Errorf("metrics:\n%s", metrics)
	}
}

// TestHotStandby: a second manager started later against the same broker
// has the same picture from the retained messages, and follows changes.
func TestHotStandby(t *testing.T) {
	f := startFleet(t)
	f.kiosk("taipei-branch/k1", &fleettest.Handler{})
	f.kiosk("taipei-branch/k2", &fleettest.Handler{})
	f.waitStatus("taipei-branch/k1", manager.StatusOnline)
	f.waitStatus("taipei-branch/k2", manager.StatusOnline)

	store, err := manager.OpenStore(filepath.Join(t.TempDir(), "standby.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	standby, err := manager.New(manager.Options{Store: store, Signer: f.signer,
		Broker: config.MQTT{BrokerURL: "mqtt://" + f.brk.Addr(), Username: "fleetd"}, Password: "pw-internal"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { standby.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wait := func(name string, want manager.Status) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if k, ok := standby.Kiosk(name); ok && k.Status == want && k.Health != nil {
				return
			}
		}
		k, _ := standby.Kiosk(name)
		t.Fatalf("standby: %s = %q (health %v), want %q with health", name, k.Status, k.Health != nil, want)
	}
	wait("taipei-branch/k1", manager.StatusOnline)
	wait("taipei-branch/k2", manager.StatusOnline)
	f.proxies["taipei-branch/k2"].Kill()
	wait("taipei-branch/k2", manager.StatusOffline)
}
