package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// testPin is a GPIO pin of this test process (periph's registry), so a
// kiosk here may wire its panel to it.
const testPin = "GPIO_T18"

// TestCentralConfigFromFleetd runs two real kiosks (this program, on
// their own config.json, restarted by the test as gokrazy would) against
// a real fleetd process and Mosquitto (TLS, Dynamic Security). fleetd's
// branches get a buzzer on testPin: one kiosk takes it, restarts onto it
// and runs it; the other has its tamper switch on that pin, refuses it by
// config's rules, keeps its configuration, and fleetd shows it as drift
// with the field at fault.
func TestCentralConfigFromFleetd(t *testing.T) {
	itest.File(t, config.DebianFont, "fonts-noto-cjk")
	mq := itest.Env(t, "NHIKIOSK_MQTT_TLS_ADDR", "Mosquitto (TLS listener)")
	mqDir := itest.Env(t, "NHIKIOSK_MQTT_DIR", "Mosquitto (TLS listener)")
	if err := gpioreg.Register(&gpiotest.Pin{N: testPin, EdgesChan: make(chan gpio.Level)}); err != nil {
		t.Fatalf("register the test's pin: %v", err)
	}
	fd := startFleetdForKiosks(t, "-broker", "mqtts://"+mq, "-broker-user", "fleetd", "-broker-password-file",
		filepath.Join(mqDir, "users", "fleetd.pass"), "-broker-ca", filepath.Join(mqDir, "ca.pem"), "-broker-dynsec")
	b := make([]byte, 3)
	rand.Read(b)
	site := "cc-" + hex.EncodeToString(b)
	takes, refuses := site+"/k-takes", site+"/k-refuses"
	var enrolled struct {
		Credentials []struct {
			Kiosk       string `json:"kiosk"`
			Password    string `json:"password"`
			OperatorKey string `json:"operator_key"`
		} `json:"credentials"`
	}
	fd.api(t, "POST", "/api/v1/enroll", map[string]any{"kiosks": []string{takes, refuses}}, &enrolled)
	t.Cleanup(func() { fd.forget(t, mq, mqDir, takes, refuses) })
	restarts := map[string]*atomic.Int32{}
	dirs := map[string]string{}
	for _, c := range enrolled.Credentials {
		var tamper string
		if c.Kiosk == refuses {
			tamper = testPin
		}
		dirs[c.Kiosk] = kioskConfigDir(t, c.Kiosk, c.Password, c.OperatorKey, "mqtts://"+mq, filepath.Join(mqDir, "ca.pem"), tamper)
		restarts[c.Kiosk] = superviseKiosk(t, dirs[c.Kiosk])
	}
	fd.waitKiosks(t, "both kiosks heard", func(ks map[string]apiKiosk) bool {
		return ks[takes].heard() && ks[refuses].heard()
	})
	fd.api(t, "POST", "/api/v1/tags", map[string]any{"kiosks": []string{takes, refuses}, "add": []string{"type:branch"}}, nil)
	fd.api(t, "PUT", "/api/v1/config/group:type:branch", map[string]any{
		"config": map[string]any{"panel": map[string]string{"buzzer": testPin}, "session": map[string]string{"idle_timeout": "45s"}}}, nil)
	fd.waitKiosks(t, "one kiosk runs it, the other refused it", func(ks map[string]apiKiosk) bool {
		return ks[takes].configState() == "in_sync" && ks[refuses].configState() == "refused"
	})
	ks := fd.kiosks(t)
	if r := ks[refuses]; r.Config.Field != "panel.tamper" || !r.hasAlert("config_drift") || r.Birth.ConfigHash == r.Config.Desired {
		t.Errorf("the refusing kiosk: field %q, alerts %v, runs %s (wants %s)", r.Config.Field, r.Alerts, r.Birth.ConfigHash, r.Config.Desired)
	}
	if n := restarts[takes].Load(); n != 1 {
		t.Errorf("the kiosk that took it restarted %d times, want once", n)
	}
	if n := restarts[refuses].Load(); n != 0 {
		t.Errorf("the kiosk that refused restarted %d times", n)
	}
	cfg, err := loadConfig(options{configDir: dirs[takes]})
	if err != nil || cfg.Panel.Buzzer != testPin || cfg.Session.IdleTimeout.D() != 45*time.Second {
		t.Errorf("the kiosk that took it now loads buzzer %q, idle %v (%v)", cfg.Panel.Buzzer, cfg.Session.IdleTimeout, err)
	}
	if _, err := os.Stat(filepath.Join(dirs[refuses], config.CentralFileName)); !os.IsNotExist(err) {
		t.Errorf("the refusing kiosk kept the configuration: %v", err)
	}
}

// kioskConfigDir writes a kiosk's own config.json: headless, CCID (no
// reader here), an upstream on loopback that is not there, the fleet on
// Mosquitto with its credential; its tamper switch on tamper.
func kioskConfigDir(t *testing.T, name, password, opKey, broker, ca, tamper string) string {
	dir := t.TempDir()
	site, id, _ := strings.Cut(name, "/")
	write := func(file, s string) string {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := map[string]any{"site": site, "kiosk_id": id, "data_dir": filepath.Join(dir, "data"),
		"upstream": map[string]any{"url": "http://127.0.0.1:9/"},
		"mqtt": map[string]any{"broker_url": broker, "username": site + "." + id, "password_file": write("mqtt.pass", password),
			"ca_file": ca, "operator_keys_file": write("operator-keys", opKey+"\n"), "health_interval": "5s"},
		"display": map[string]any{"backend": "headless", "width": 800, "height": 480, "dpi": 133},
		"panel":   map[string]any{"tamper": tamper}}
	b, _ := json.Marshal(c)
	write(config.FileName, string(b))
	return dir
}

// superviseKiosk runs the kiosk on dir until the test ends, starting it
// again whenever it exits to restart (as gokrazy does); it counts the
// restarts.
func superviseKiosk(t *testing.T, dir string) *atomic.Int32 {
	var n atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var stderr lockedBuffer
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			err := runContext(ctx, []string{"-config-dir", dir}, io.Discard, &stderr)
			if exitCode(err) != exitRestart {
				if ctx.Err() == nil {
					t.Errorf("kiosk on %s stopped: %v\n%s", dir, err, stderr.String())
				}
				return
			}
			n.Add(1)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if t.Failed() {
			t.Logf("kiosk on %s:\n%s", dir, stderr.String())
		}
	})
	return &n
}

// fleetdForKiosks is a fleetd process.
type fleetdForKiosks struct {
	url, password string
}

func startFleetdForKiosks(t *testing.T, brokerArgs ...string) *fleetdForKiosks {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fleetd")
	if out, err := exec.Command("go", "build", "-o", bin, "../fleetd").CombinedOutput(); err != nil {
		t.Fatalf("build fleetd: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	httpAddr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, append([]string{"-data", t.TempDir(), "-http", httpAddr}, brokerArgs...)...)
	out, _ := cmd.StdoutPipe()
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	f := &fleetdForKiosks{}
	re := regexp.MustCompile(`dashboard  (\S+)/|one-time password (\S+)|operator key`)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		m := re.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		if m[1] != "" {
			f.url = m[1]
		}
		if m[2] != "" {
			f.password = m[2]
		}
		if strings.Contains(sc.Text(), "operator key") {
			break
		}
	}
	go io.Copy(io.Discard, out)
	if f.url == "" || f.password == "" {
		t.Fatalf("fleetd printed no banner:\n%s", stderr.String())
	}
	return f
}

func (f *fleetdForKiosks) api(t *testing.T, method, path string, body, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, f.url+path, bytes.NewReader(b))
	req.SetBasicAuth("admin", f.password)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, rb)
	}
	if out != nil {
		if err := json.Unmarshal(rb, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// apiKiosk is what this test reads of fleetd's kiosks.
type apiKiosk struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Birth  struct {
		ConfigHash string `json:"config_hash"`
	} `json:"birth"`
	Alerts []struct {
		Kind string `json:"kind"`
	} `json:"alerts"`
	Config struct {
		Desired, Refused, Acked, Field string
	} `json:"config"`
}

func (k apiKiosk) configState() string {
	switch {
	case k.Config.Desired == "":
		return "unmanaged"
	case k.Birth.ConfigHash == k.Config.Desired:
		return "in_sync"
	case k.Config.Refused == k.Config.Desired:
		return "refused"
	}
	return "drift"
}

// heard reports whether fleetd hears the kiosk (it is faulty here: no
// card reader on the test machine).
func (k apiKiosk) heard() bool { return k.Status == "online" || k.Status == "faulty" }

func (k apiKiosk) hasAlert(kind string) bool {
	for _, a := range k.Alerts {
		if a.Kind == kind {
			return true
		}
	}
	return false
}

func (f *fleetdForKiosks) kiosks(t *testing.T) map[string]apiKiosk {
	var page struct {
		Kiosks []apiKiosk `json:"kiosks"`
	}
	f.api(t, "GET", "/api/v1/kiosks?limit=1000&q=cc-", nil, &page)
	out := map[string]apiKiosk{}
	for _, k := range page.Kiosks {
		out[k.Name] = k
	}
	return out
}

func (f *fleetdForKiosks) waitKiosks(t *testing.T, what string, cond func(map[string]apiKiosk) bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ks := f.kiosks(t)
		if cond(ks) {
			return
		}
		if time.Now().After(deadline) {
			var mine []string
			for n, k := range ks {
				if strings.HasPrefix(n, "cc-") {
					mine = append(mine, fmt.Sprintf("%+v", k))
				}
			}
			t.Fatalf("timed out waiting for %s: %s", what, strings.Join(mine, "\n"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// forget removes the test's kiosks from the shared Mosquitto: their
// Dynamic Security client and role, and their retained messages.
func (f *fleetdForKiosks) forget(t *testing.T, addr, dir string, names ...string) {
	pw, _ := os.ReadFile(filepath.Join(dir, "users", "fleetd.pass"))
	tc, _ := fleet.TLSConfigFor(config.MQTT{CAFile: filepath.Join(dir, "ca.pem")})
	var ds *broker.Dynsec
	c := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("mqtts://" + addr).SetClientID("kiosk-test-cleanup-" + names[0][:9]).
		SetUsername("fleetd").SetPassword(strings.TrimSpace(string(pw))).SetTLSConfig(tc).
		SetOnConnectHandler(func(c mqtt.Client) { ds.Attach(c) }))
	ds = broker.NewDynsec(c)
	if tk := c.Connect(); !tk.WaitTimeout(5*time.Second) || tk.Error() != nil {
		t.Logf("clean up Mosquitto: %v", tk.Error())
		return
	}
	defer c.Disconnect(100)
	for _, n := range names {
		ref, _ := fleet.ParseKioskRef(n)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		ds.DeleteKiosk(ctx, ref)
		cancel()
		for _, ch := range []string{fleet.ChanState, fleet.ChanHealth} {
			c.Publish(fleet.Topic(ref, ch), 1, true, []byte{}).WaitTimeout(5 * time.Second)
		}
	}
}
