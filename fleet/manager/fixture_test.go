package manager_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// fleetUnderTest is a broker (the embedded one, or the Mosquitto that
// .ci/services/mosquitto.sh starts, with TLS and its Dynamic Security
// plugin), a manager with its web UI reaching the broker through a proxy
// (bus, to cut), and kiosk agents each behind a proxy of its own.
type fleetUnderTest struct {
	t        *testing.T
	name     string // "embedded" or "mosquitto"
	brk      *broker.Broker
	m        *manager.Manager
	web      *httptest.Server
	signer   fleet.Signer
	proxies  map[string]*fleettest.Proxy
	passes   map[string]string
	bus      *fleettest.Proxy
	ctx      context.Context
	kioskURL string // scheme://host:port kiosks connect to (before their proxy)
	caFile   string
	site     string // a site of this test's own
	store    *manager.Store
}

// eachBroker runs test against the embedded broker and against Mosquitto.
func eachBroker(t *testing.T, o manager.Options, test func(t *testing.T, f *fleetUnderTest)) {
	t.Run("embedded", func(t *testing.T) { test(t, startFleetOpts(t, o)) })
	t.Run("mosquitto", func(t *testing.T) { test(t, startMosquittoFleet(t, o)) })
}

func startFleet(t *testing.T) *fleetUnderTest {
	t.Helper()
	return startFleetOpts(t, manager.Options{})
}

func newFixture(t *testing.T, name string) *fleetUnderTest {
	f := &fleetUnderTest{t: t, name: name, proxies: map[string]*fleettest.Proxy{}, passes: map[string]string{}}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	f.signer = fleet.Signer{KeyID: "fleetd-test", Key: priv}
	b := make([]byte, 3)
	rand.Read(b)
	f.site = "mt-" + hex.EncodeToString(b)
	return f
}

// startFleetOpts starts a fleet on the embedded broker with manager
// options o (liveness, logger…) set.
func startFleetOpts(t *testing.T, o manager.Options) *fleetUnderTest {
	t.Helper()
	f := newFixture(t, "embedded")
	var err error
	f.brk, err = broker.Start(broker.Config{Addr: "127.0.0.1:0", Operators: map[string]string{"fleetd": "pw-internal"}, Logger: o.Logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.brk.Close() })
	f.kioskURL = "mqtt://" + f.brk.Addr()
	f.bus = fleettest.NewProxy(t, f.brk.Addr())
	o.Broker, o.Password = config.MQTT{BrokerURL: "mqtt://" + f.bus.Addr(), Username: "fleetd"}, "pw-internal"
	o.Subscribe, o.Credentials = f.brk.Subscribe, f.brk
	f.start(o)
	return f
}

// startMosquittoFleet starts a fleet on Mosquitto (fleetd -broker
// mqtts://… -broker-dynsec), skipping (failing in CI) without it.
func startMosquittoFleet(t *testing.T, o manager.Options) *fleetUnderTest {
	t.Helper()
	addr := itest.Env(t, "NHIKIOSK_MQTT_TLS_ADDR", "Mosquitto (TLS listener)")
	dir := itest.Env(t, "NHIKIOSK_MQTT_DIR", "Mosquitto (TLS listener)")
	f := newFixture(t, "mosquitto")
	f.kioskURL, f.caFile = "mqtts://"+addr, filepath.Join(dir, "ca.pem")
	f.bus = fleettest.NewProxy(t, addr)
	o.Broker = config.MQTT{BrokerURL: "mqtts://" + f.bus.Addr(), Username: "fleetd",
		PasswordFile: filepath.Join(dir, "users", "fleetd.pass"), CAFile: f.caFile}
	o.Dynsec = true
	f.start(o)
	t.Cleanup(func() { f.deleteKiosks(dir, addr) })
	return f
}

// deleteKiosks removes the test's kiosks from Mosquitto's dynsec file.
func (f *fleetUnderTest) deleteKiosks(dir, addr string) {
	pw, _ := os.ReadFile(filepath.Join(dir, "users", "fleetd.pass"))
	tc, _ := fleet.TLSConfigFor(config.MQTT{CAFile: f.caFile})
	var ds *broker.Dynsec
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("mqtts://" + addr).SetClientID("fleetd-cleanup-" + f.site).
		SetUsername("fleetd").SetPassword(strings.TrimSpace(string(pw))).SetTLSConfig(tc).
		SetOnConnectHandler(func(c mqtt.Client) { ds.Attach(c) }))
	ds = broker.NewDynsec(c)
	if t := c.Connect(); !t.WaitTimeout(5*time.Second) || t.Error() != nil {
		return
	}
	defer c.Disconnect(100)
	for name := range f.passes {
		ref, _ := fleet.ParseKioskRef(name)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ds.DeleteKiosk(ctx, ref)
		cancel()
		for _, ch := range []string{fleet.ChanState, fleet.ChanHealth, fleet.ChanEvent, fleet.ChanAck} {
			c.Publish(fleet.Topic(ref, ch), 1, true, []byte{}).WaitTimeout(5 * time.Second) // the broker is shared
		}
	}
}

// metric returns the value of one line of /metrics ("name{labels}").
func (f *fleetUnderTest) metric(name string) float64 {
	f.t.Helper()
	_, m := f.get("/metrics")
	for _, l := range strings.Split(m, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n
		}
	}
	f.t.Fatalf("no metric %s", name)
	return 0
}

func (f *fleetUnderTest) start(o manager.Options) {
	t := f.t
	store, err := manager.OpenStore(filepath.Join(t.TempDir(), "fleetd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f.store = store
	if err := store.SetUser("op", manager.RoleOperator, "test-operator-pw"); err != nil {
		t.Fatal(err)
	}
	if err := store.SetUser("viewer", manager.RoleViewer, "test-viewer-pw"); err != nil {
		t.Fatal(err)
	}
	o.Store, o.Signer, o.HistoryEvery = store, f.signer, time.Millisecond
	if o.Tick == 0 {
		o.Tick = 100 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f.m, err = manager.New(o)
	if err != nil {
		t.Fatal(err)
	}
	// The tests before issue 19 read the console in English.
	for _, n := range []string{"op", "viewer"} {
		if _, err := f.m.SetLanguage(manager.User{Name: n}, "en"); err != nil {
			t.Fatal(err)
		}
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
	for end := time.Now().Add(10 * time.Second); !f.m.BrokersUp(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("manager did not connect to its broker")
		}
	}
	f.web = httptest.NewServer(manager.NewWeb(f.m))
	t.Cleanup(f.web.Close)
}

var testOperator = manager.User{Name: "test-setup", Role: manager.RoleOperator}

// ref is kiosk k of the test's own site.
func (f *fleetUnderTest) ref(k string) string { return f.site + "/" + k }

// enroll enrolls kiosk name and returns its password.
func (f *fleetUnderTest) enroll(name string) string {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := f.m.Enroll(ctx, testOperator, name)
	if err != nil {
		f.t.Fatal(err)
	}
	f.passes[name] = c.Password
	return c.Password
}

// kiosk enrolls site/kiosk and starts its agent (health every second).
func (f *fleetUnderTest) kiosk(name string, h *fleettest.Handler) *fleet.Agent {
	return f.kioskEvery(name, h, time.Second)
}

func (f *fleetUnderTest) kioskEvery(name string, h *fleettest.Handler, every time.Duration) *fleet.Agent {
	t := f.t
	ref, _ := fleet.ParseKioskRef(name)
	scheme, host, _ := strings.Cut(f.kioskURL, "://")
	p := fleettest.NewProxy(t, host)
	f.proxies[name] = p
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte(f.enroll(name)), 0o600)
	os.WriteFile(filepath.Join(dir, "keys"), []byte(f.signer.PublicLine()), 0o600)
	a, err := fleet.NewAgent(config.MQTT{BrokerURL: scheme + "://" + p.Addr(), Username: ref.Username(), CAFile: f.caFile,
		PasswordFile: filepath.Join(dir, "pw"), OperatorKeysFile: filepath.Join(dir, "keys"), HealthInterval: config.Duration(every)},
		fleet.Identity{Kiosk: ref, Version: "v1.4.2", Image: "gokrazy-test", BootTime: time.Now(), ConfigHash: "sha256:test"},
		fleet.Options{Health: fleettest.Health, Handler: h, MaxReconnectInterval: time.Second, ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	h.SetHash = a.SetConfigHash
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	go func() { a.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return a
}

// mqttClient connects a plain MQTT client as user with password and id,
// straight to the broker kiosks use.
func (f *fleetUnderTest) mqttClient(user, pass, id string) (mqtt.Client, error) {
	o := mqtt.NewClientOptions().AddBroker(f.kioskURL).SetClientID(id).SetUsername(user).SetPassword(pass).
		SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
	if f.caFile != "" {
		tc, err := fleet.TLSConfigFor(config.MQTT{CAFile: f.caFile})
		if err != nil {
			return nil, err
		}
		o.SetTLSConfig(tc)
	}
	c := mqtt.NewClient(o)
	if tk := c.Connect(); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		return nil, tk.Error()
	}
	return c, nil
}

func (f *fleetUnderTest) waitStatus(name string, want manager.Status) {
	f.t.Helper()
	f.waitFor(name+" "+string(want), func() bool { k, ok := f.m.Kiosk(name); return ok && k.Status == want })
}

func (f *fleetUnderTest) waitFor(what string, cond func() bool) {
	f.t.Helper()
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	f.t.Fatalf("timed out waiting for %s", what)
}

// get fetches path from the web UI without credentials.
func (f *fleetUnderTest) get(path string) (int, string) {
	f.t.Helper()
	resp, err := http.Get(f.web.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// browser is an HTTP client logged in as user, with its session cookie.
func (f *fleetUnderTest) browser(user, pass string) *http.Client {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(f.web.URL+"/login", url.Values{"user": {user}, "password": {pass}, "next": {"/"}})
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := url.Parse(f.web.URL)
	if len(jar.Cookies(u)) == 0 {
		f.t.Fatalf("login as %s: no session cookie (status %d)", user, resp.StatusCode)
	}
	return c
}

// page fetches path logged in as user.
func (f *fleetUnderTest) page(user, pass, path string) string {
	f.t.Helper()
	resp, err := f.browser(user, pass).Get(f.web.URL + path)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
