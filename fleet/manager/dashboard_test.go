package manager_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
	"github.com/nhikiosk/nhikiosk/internal/itest/chromium"
	"net/http/httptest"
)

// fleetUnderTest is an embedded broker, a manager with its web UI, and
// kiosk agents each behind a killable proxy.
type fleetUnderTest struct {
	t       *testing.T
	secret  []byte
	brk     *broker.Broker
	m       *manager.Manager
	web     *httptest.Server
	signer  fleet.Signer
	proxies map[string]*fleettest.Proxy
	ctx     context.Context
}

func startFleet(t *testing.T) *fleetUnderTest {
	t.Helper()
	f := &fleetUnderTest{t: t, secret: []byte("dashboard-test-secret-0123456789"), proxies: map[string]*fleettest.Proxy{}}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	f.signer = fleet.Signer{KeyID: "fleetd-test", Key: priv}
	var err error
	f.brk, err = broker.Start(broker.Config{Addr: "127.0.0.1:0", Secret: f.secret, Operators: map[string]string{"fleetd": "pw-internal"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.brk.Close() })
	store, err := manager.OpenStore(filepath.Join(t.TempDir(), "fleetd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.SetUser("op", manager.RoleOperator, "test-operator-pw"); err != nil {
		t.Fatal(err)
	}
	if err := store.SetUser("viewer", manager.RoleViewer, "test-viewer-pw"); err != nil {
		t.Fatal(err)
	}
	// As fleetd does with its embedded broker: messages in-process,
	// commands through an MQTT client (TestHotStandby covers a manager
	// that only has MQTT).
	f.m, err = manager.New(manager.Options{Store: store, Signer: f.signer, HistoryEvery: time.Millisecond,
		Broker: config.MQTT{BrokerURL: "mqtt://" + f.brk.Addr(), Username: "fleetd"}, Password: "pw-internal",
		Subscribe: f.brk.Subscribe})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.ctx = ctx
	done := make(chan struct{})
	go func() { f.m.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-f.m.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("manager did not subscribe")
	}
	f.web = httptest.NewServer(manager.NewWeb(f.m))
	t.Cleanup(f.web.Close)
	return f
}

// kiosk starts an agent for site/kiosk.
func (f *fleetUnderTest) kiosk(name string, h *fleettest.Handler) {
	t := f.t
	ref, _ := fleet.ParseKioskRef(name)
	p := fleettest.NewProxy(t, f.brk.Addr())
	f.proxies[name] = p
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte(broker.KioskPassword(f.secret, ref)), 0o600)
	os.WriteFile(filepath.Join(dir, "keys"), []byte(f.signer.PublicLine()), 0o600)
	a, err := fleet.NewAgent(config.MQTT{BrokerURL: "mqtt://" + p.Addr(), Username: ref.Username(),
		PasswordFile: filepath.Join(dir, "pw"), OperatorKeysFile: filepath.Join(dir, "keys"), HealthInterval: config.Duration(time.Second)},
		fleet.Identity{Kiosk: ref, Version: "v1.4.2", Image: "gokrazy-test", BootTime: time.Now(), ConfigHash: "sha256:test"},
		fleet.Options{Health: fleettest.Health, Handler: h})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (f *fleetUnderTest) waitStatus(name string, want manager.Status) {
	f.t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if k, ok := f.m.Kiosk(name); ok && k.Status == want {
			return
		}
	}
	k, _ := f.m.Kiosk(name)
	f.t.Fatalf("%s status = %q, want %q", name, k.Status, want)
}

// TestDashboardChromium drives the dashboard in headless Chromium: a kiosk
// going offline shows without a reload, and an operator's maintenance-on
// is sent and its ack shown.
func TestDashboardChromium(t *testing.T) {
	f := startFleet(t)
	f.kiosk("taipei-branch/k1", &fleettest.Handler{})
	f.kiosk("taipei-branch/k2", &fleettest.Handler{})
	f.kiosk("ntuh-lobby/k1", &fleettest.Handler{})
	for _, k := range []string{"taipei-branch/k1", "taipei-branch/k2", "ntuh-lobby/k1"} {
		f.waitStatus(k, manager.StatusOnline)
	}
	ctx, cancel := context.WithTimeout(chromium.New(t, 1280, 1000), 90*time.Second)
	defer cancel()
	shot := func(name string) {
		dir := os.Getenv("FLEETD_SCREENSHOT_DIR")
		if dir == "" {
			return
		}
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Logf("screenshot %s: %v", name, err)
			return
		}
		os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
	}
	k2 := `tr[data-kiosk="taipei-branch/k2"] .badge`
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.web.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`input[name=user]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=user]`), "op"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "test-operator-pw"),
		chromedp.Submit(chromedp.CSS(`input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(k2)),
	)
	if err != nil {
		t.Fatalf("log in and open the overview: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(k2)))
	if err != nil || status != "online" {
		t.Fatalf("k2 badge = %q, %v; want online", status, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.noReload = "same page"`)); err != nil {
		t.Fatal(err)
	}
	f.proxies["taipei-branch/k2"].Kill()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('`+k2+`').textContent === "offline"`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("k2 offline on the page: %v", err)
	}
	marker, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.noReload`))
	if err != nil || marker != "same page" {
		t.Errorf("the page reloaded (marker %q, %v): it must update live", marker, err)
	}
	shot("overview")
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.web.URL+"/kiosks/taipei-branch/k1"),
		chromedp.WaitVisible(chromedp.CSS(`#cmd-maintenance_on`)),
		chromedp.Click(chromedp.CSS(`#cmd-maintenance_on`)),
		chromedp.WaitVisible(chromedp.CSS(`#commands .a-ok`)),
	)
	if err != nil {
		t.Fatalf("send maintenance_on and see the ack: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('h1 .badge').textContent === "maintenance"`,
		chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Errorf("kiosk page does not show maintenance: %v", err)
	}
	ack, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#commands tbody tr`)))
	if err != nil {
		t.Fatal(err)
	}
	if ack = strings.ToLower(ack); !strings.Contains(ack, "maintenance on") || !strings.Contains(ack, "op") || !strings.Contains(ack, "ok") {
		t.Errorf("command row = %q, want maintenance on by op, answered ok", ack)
	}
	shot("kiosk")
	audit, _ := f.m.Audit(10)
	if len(audit) != 1 || audit[0].User != "op" || !strings.HasPrefix(audit[0].Detail, "maintenance_on") {
		t.Errorf("audit = %+v, want one maintenance_on by op", audit)
	}
}
