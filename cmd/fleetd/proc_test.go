package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// fleetdBinary builds fleetd once per test run.
func fleetdBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "fleetd-test-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "fleetd")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("build fleetd: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// fleetdProc is a fleetd process.
type fleetdProc struct {
	cmd    *exec.Cmd
	http   string
	banner map[string]string
	stderr *lockedBuf
}

type lockedBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var bannerRE = regexp.MustCompile(`dashboard  (https?://\S+)/|one-time password (\S+)|operator key for kiosks' operator_keys_file: (.+)`)

// startFleetd runs fleetd with args and waits for its banner.
func startFleetd(t *testing.T, args ...string) *fleetdProc {
	t.Helper()
	p := &fleetdProc{cmd: exec.Command(fleetdBinary(t), args...), banner: map[string]string{}, stderr: &lockedBuf{}}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := bannerRE.FindStringSubmatch(sc.Text()); m != nil {
			for i, k := range []string{"", "http", "password", "operator"} {
				if i > 0 && m[i] != "" {
					p.banner[k] = m[i]
				}
			}
			if m[3] != "" {
				break
			}
		}
	}
	go io.Copy(io.Discard, out)
	if p.banner["http"] == "" {
		t.Fatalf("fleetd printed no banner; stderr:\n%s", p.stderr.String())
	}
	p.http = p.banner["http"]
	return p
}

// kill ends fleetd as a crash or a power cut would: no goodbye.
func (p *fleetdProc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	p.cmd.Wait()
}

func (p *fleetdProc) client(password string) apiClient {
	return apiClient{base: p.http, user: "admin", pass: password, http: &http.Client{Timeout: 30 * time.Second}}
}

// metric reads one line of /metrics.
func (p *fleetdProc) metric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(p.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// brokerSide is where a test's fleetd and kiosks meet: fleetd's embedded
// broker, or Mosquitto with fleetd managing its Dynamic Security plugin.
type brokerSide struct {
	name     string
	args     []string // fleetd's broker flags
	kioskURL string   // scheme://host:port for kiosks
	caFile   string
	site     string
	cleanup  func(refs []fleet.KioskRef)
}

func eachBrokerSide(t *testing.T, test func(t *testing.T, b brokerSide)) {
	t.Run("embedded", func(t *testing.T) {
		mq := freePort(t)
		test(t, brokerSide{name: "embedded", args: []string{"-mqtt", mq}, kioskURL: "mqtt://" + mq, site: testSite()})
	})
	t.Run("mosquitto", func(t *testing.T) { test(t, mosquittoSide(t)) })
}

func testSite() string { r := make([]byte, 3); rand.Read(r); return "rt-" + hex.EncodeToString(r) }

// mosquittoSide is the Mosquitto that .ci/services/mosquitto.sh starts
// (TLS, Dynamic Security), with fleetd managing its kiosks' credentials.
func mosquittoSide(t *testing.T) brokerSide {
	addr := itest.Env(t, "NHIKIOSK_MQTT_TLS_ADDR", "Mosquitto (TLS listener)")
	dir := itest.Env(t, "NHIKIOSK_MQTT_DIR", "Mosquitto (TLS listener)")
	ca, pw := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "users", "fleetd.pass")
	return brokerSide{name: "mosquitto", args: []string{"-broker", "mqtts://" + addr, "-broker-user", "fleetd",
		"-broker-password-file", pw, "-broker-ca", ca, "-broker-dynsec"},
		kioskURL: "mqtts://" + addr, caFile: ca, site: testSite(),
		cleanup: func(refs []fleet.KioskRef) { mosquittoCleanup(addr, ca, pw, refs) }}
}

// mosquittoCleanup removes kiosks from the shared Mosquitto: their dynsec
// client and role, and their retained messages.
func mosquittoCleanup(addr, ca, pwFile string, refs []fleet.KioskRef) {
	pw, _ := os.ReadFile(pwFile)
	tc, _ := fleet.TLSConfigFor(config.MQTT{CAFile: ca})
	var ds *broker.Dynsec
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("mqtts://" + addr).SetClientID("fleetd-cleanup-" + refs[0].Site).
		SetUsername("fleetd").SetPassword(strings.TrimSpace(string(pw))).SetTLSConfig(tc).
		SetOnConnectHandler(func(c mqtt.Client) { ds.Attach(c) }))
	ds = broker.NewDynsec(c)
	if tk := c.Connect(); !tk.WaitTimeout(5*time.Second) || tk.Error() != nil {
		return
	}
	defer c.Disconnect(100)
	for _, r := range refs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ds.DeleteKiosk(ctx, r)
		cancel()
		for _, ch := range []string{fleet.ChanState, fleet.ChanHealth} {
			c.Publish(fleet.Topic(r, ch), 1, true, []byte{}).WaitTimeout(5 * time.Second)
		}
	}
}

// testKiosk is a kiosk agent in the test process, behind a proxy.
type testKiosk struct {
	ref    fleet.KioskRef
	agent  *fleet.Agent
	proxy  *fleettest.Proxy
	cancel context.CancelFunc
	done   chan struct{}
}

func (b brokerSide) startKiosk(t *testing.T, ref fleet.KioskRef, password, opKey string, health fleet.HealthFunc) *testKiosk {
	t.Helper()
	return b.startKioskWith(t, ref, password, opKey, health, &fleettest.Handler{})
}

// startKioskWith starts a kiosk agent whose commands go to h (h's SetHash
// is the agent's, as a kiosk that runs a central configuration at once).
func (b brokerSide) startKioskWith(t *testing.T, ref fleet.KioskRef, password, opKey string, health fleet.HealthFunc, h *fleettest.Handler) *testKiosk {
	t.Helper()
	scheme, host, _ := strings.Cut(b.kioskURL, "://")
	k := &testKiosk{ref: ref, proxy: fleettest.NewProxy(t, host), done: make(chan struct{})}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte(password), 0o600)
	os.WriteFile(filepath.Join(dir, "keys"), []byte(opKey+"\n"), 0o600)
	var err error
	k.agent, err = fleet.NewAgent(config.MQTT{BrokerURL: scheme + "://" + k.proxy.Addr(), Username: ref.Username(), CAFile: b.caFile,
		PasswordFile: filepath.Join(dir, "pw"), OperatorKeysFile: filepath.Join(dir, "keys"), HealthInterval: config.Duration(time.Second)},
		fleet.Identity{Kiosk: ref, Version: "v1.4.2", Image: "gokrazy-test", BootTime: time.Now(), ConfigHash: "sha256:test"},
		fleet.Options{Health: health, Handler: h, MaxReconnectInterval: time.Second, ConnectTimeout: 2 * time.Second,
			StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	h.SetHash = k.agent.SetConfigHash
	ctx, cancel := context.WithCancel(context.Background())
	k.cancel = cancel
	go func() { k.agent.Run(ctx); close(k.done) }()
	t.Cleanup(k.stop)
	return k
}

func (k *testKiosk) stop() {
	k.cancel()
	<-k.done
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); ; time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
	}
}
