package fleet_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/broker"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/internal/itest"
)

// brokerEnv is a TLS broker with an operator user and two kiosks of site
// "itest" (k1 and k2), whichever broker it is.
type brokerEnv struct {
	addr     string // host:port of the TLS listener
	caFile   string
	opUser   string
	opPass   string
	kioskPas map[string]string // user name → password
}

func mosquittoEnv(t *testing.T) brokerEnv {
	addr := itest.Env(t, "NHIKIOSK_MQTT_TLS_ADDR", "Mosquitto (TLS listener)")
	dir := itest.Env(t, "NHIKIOSK_MQTT_DIR", "Mosquitto (TLS listener)")
	read := func(u string) string {
		b, err := os.ReadFile(filepath.Join(dir, "users", u+".pass"))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	return brokerEnv{addr: addr, caFile: filepath.Join(dir, "ca.pem"), opUser: "fleetd", opPass: read("fleetd"),
		kioskPas: map[string]string{"itest.k1": read("itest.k1"), "itest.k2": read("itest.k2")}}
}

func embeddedEnv(t *testing.T) brokerEnv {
	ca := fleettest.NewCA(t)
	secret := []byte("0123456789abcdef-test-secret")
	b, err := broker.Start(broker.Config{Addr: "127.0.0.1:0", TLS: ca.ServerTLS(), Secret: secret,
		Operators: map[string]string{"fleetd": "operator-test-password"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	k := func(s string) string { r, _ := fleet.ParseKioskRef(s); return broker.KioskPassword(secret, r) }
	return brokerEnv{addr: b.Addr(), caFile: ca.CAFile, opUser: "fleetd", opPass: "operator-test-password",
		kioskPas: map[string]string{"itest.k1": k("itest/k1"), "itest.k2": k("itest/k2")}}
}

func TestMosquittoTLSACL(t *testing.T) { runSuite(t, mosquittoEnv(t)) }

func TestEmbeddedBrokerTLSACL(t *testing.T) { runSuite(t, embeddedEnv(t)) }

// collector is an operator-side client that keeps every message by topic.
type collector struct {
	mu   sync.Mutex
	msgs map[string][][]byte
	c    mqtt.Client
}

func newClient(t *testing.T, env brokerEnv, user, pass, id string) mqtt.Client {
	t.Helper()
	tc, err := fleet.TLSConfigFor(config.MQTT{CAFile: env.caFile})
	if err != nil {
		t.Fatal(err)
	}
	o := mqtt.NewClientOptions().AddBroker("mqtts://" + env.addr).SetClientID(id).SetUsername(user).
		SetPassword(pass).SetTLSConfig(tc).SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
	c := mqtt.NewClient(o)
	if tk := c.Connect(); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		t.Fatalf("connect %s: %v", user, tk.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func newCollector(t *testing.T, c mqtt.Client, filter string) *collector {
	t.Helper()
	col := &collector{msgs: map[string][][]byte{}, c: c}
	tk := c.Subscribe(filter, 1, func(_ mqtt.Client, m mqtt.Message) {
		col.mu.Lock()
		col.msgs[m.Topic()] = append(col.msgs[m.Topic()], m.Payload())
		col.mu.Unlock()
	})
	if !tk.WaitTimeout(5*time.Second) || tk.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tk.Error())
	}
	return col
}

func (c *collector) get(topic string) [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.msgs[topic]...)
}

// waitFor polls until f returns true or 10 s pass.
func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if f() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func lastState(c *collector, k fleet.KioskRef) fleet.State {
	var s fleet.State
	if m := c.get(fleet.Topic(k, fleet.ChanState)); len(m) > 0 {
		json.Unmarshal(m[len(m)-1], &s)
	}
	return s
}

func acks(c *collector, k fleet.KioskRef) map[fleet.Token]fleet.Ack {
	out := map[fleet.Token]fleet.Ack{}
	for _, b := range c.get(fleet.Topic(k, fleet.ChanAck)) {
		var a fleet.Ack
		json.Unmarshal(b, &a)
		out[a.ID] = a
	}
	return out
}

func events(c *collector, k fleet.KioskRef) []fleet.Event {
	var out []fleet.Event
	for _, b := range c.get(fleet.Topic(k, fleet.ChanEvent)) {
		var e fleet.Event
		json.Unmarshal(b, &e)
		out = append(out, e)
	}
	return out
}

type kioskUnderTest struct {
	ref     fleet.KioskRef
	agent   *fleet.Agent
	handler *fleettest.Handler
	proxy   *fleettest.Proxy
	signer  fleet.Signer
}

// startKiosk runs an agent for kiosk k1 through a killable proxy.
func startKiosk(t *testing.T, env brokerEnv) *kioskUnderTest {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	k := &kioskUnderTest{ref: fleet.KioskRef{Site: "itest", Kiosk: "k1"}, handler: &fleettest.Handler{},
		signer: fleet.Signer{KeyID: "ops-1", Key: priv}, proxy: fleettest.NewProxy(t, env.addr)}
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := config.MQTT{BrokerURL: "mqtts://" + k.proxy.Addr(), Username: "itest.k1",
		PasswordFile: write("pass", env.kioskPas["itest.k1"]), CAFile: env.caFile,
		OperatorKeysFile: write("keys", k.signer.PublicLine()), HealthInterval: config.Duration(time.Second)}
	var err error
	k.agent, err = fleet.NewAgent(cfg, fleet.Identity{Kiosk: k.ref, Version: "v0.1.0-test", Image: "img-test",
		BootTime: time.Now(), ConfigHash: "sha256:abc"}, fleet.Options{Health: fleettest.Health, Handler: k.handler, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { k.agent.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return k
}

func (k *kioskUnderTest) command(name fleet.CommandName, id fleet.Token, expires time.Duration) fleet.Command {
	now := time.Now()
	c := fleet.Command{V: 1, ID: id, Site: k.ref.Site, Kiosk: k.ref.Kiosk, Name: name, Issued: now.Add(-time.Second), Expires: now.Add(expires)}
	k.signer.Sign(&c)
	return c
}

func publish(t *testing.T, c mqtt.Client, topic string, v any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if tk := c.Publish(topic, 1, false, b); !tk.WaitTimeout(5*time.Second) || tk.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tk.Error())
	}
}

func runSuite(t *testing.T, env brokerEnv) {
	op := newClient(t, env, env.opUser, env.opPass, "op-"+t.Name())
	col := newCollector(t, op, "nhikiosk/v1/itest/#")
	k := startKiosk(t, env)
	k1, k2 := k.ref, fleet.KioskRef{Site: "itest", Kiosk: "k2"}

	waitFor(t, "k1 online with birth", func() bool { s := lastState(col, k1); return s.State == fleet.Online && s.Birth != nil })
	waitFor(t, "k1 health", func() bool { return len(col.get(fleet.Topic(k1, fleet.ChanHealth))) > 0 })

	t.Run("acl", func(t *testing.T) {
		other := newClient(t, env, "itest.k2", env.kioskPas["itest.k2"], "kiosk-itest.k2")
		spy := newCollector(t, other, fleet.Topic(k1, fleet.ChanCmd))
		// QoS 0, then k2's own state on the same connection: once the
		// operator has the second, the first would have come before it.
		forged, _ := json.Marshal(fleet.State{V: 1, State: fleet.Offline})
		other.Publish(fleet.Topic(k1, fleet.ChanState), 0, false, forged).WaitTimeout(5 * time.Second)
		other.Publish(fleet.Topic(k1, fleet.ChanHealth), 0, false, forged).WaitTimeout(5 * time.Second)
		own, _ := json.Marshal(fleet.State{V: 1, State: fleet.Online})
		other.Publish(fleet.Topic(k2, fleet.ChanState), 0, false, own).WaitTimeout(5 * time.Second)
		waitFor(t, "k2's own state", func() bool { return len(col.get(fleet.Topic(k2, fleet.ChanState))) > 0 })
		if s := lastState(col, k1); s.State != fleet.Online {
			t.Errorf("k2 published k1's state: operator saw %q", s.State)
		}
		for _, h := range col.get(fleet.Topic(k1, fleet.ChanHealth)) {
			if strings.Contains(string(h), `"state"`) {
				t.Errorf("k2 published k1's health: %s", h)
			}
		}
		c := k.command(fleet.CmdSelfTest, "acl-probe", time.Minute)
		publish(t, op, fleet.Topic(k1, fleet.ChanCmd), c)
		waitFor(t, "k1 acks the probe", func() bool { _, ok := acks(col, k1)["acl-probe"]; return ok })
		if got := spy.get(fleet.Topic(k1, fleet.ChanCmd)); len(got) != 0 {
			t.Errorf("k2 read %d of k1's commands", len(got))
		}
		if a := acks(col, k1)["acl-probe"]; a.SelfTest == nil || a.SelfTest.Reader.OK {
			t.Errorf("self-test ack = %+v, want a result with the reader missing", a)
		}
	})

	t.Run("commands", func(t *testing.T) {
		publish(t, op, fleet.Topic(k1, fleet.ChanCmd), k.command(fleet.CmdMaintenanceOn, "m-on-1", time.Minute))
		waitFor(t, "maintenance state", func() bool { return lastState(col, k1).State == fleet.Maintenance })
		waitFor(t, "maintenance_on ack", func() bool { _, ok := acks(col, k1)["m-on-1"]; return ok })
		if a := acks(col, k1)["m-on-1"]; a.Status != fleet.AckOK {
			t.Errorf("maintenance_on ack = %+v, want ok", a)
		}
		// Replayed, expired and forged: each refused, reported as an event.
		publish(t, op, fleet.Topic(k1, fleet.ChanCmd), k.command(fleet.CmdMaintenanceOn, "m-on-1", time.Minute))
		publish(t, op, fleet.Topic(k1, fleet.ChanCmd), k.command(fleet.CmdReboot, "expired-1", -time.Second))
		forged := k.command(fleet.CmdReboot, "forged-1", time.Minute)
		forged.Name = fleet.CmdRestart
		publish(t, op, fleet.Topic(k1, fleet.ChanCmd), forged)
		want := map[fleet.Token]fleet.RejectReason{"m-on-1": fleet.RejectReplay, "expired-1": fleet.RejectExpired, "forged-1": fleet.RejectBadSig}
		waitFor(t, "three rejections", func() bool {
			n := 0
			for _, e := range events(col, k1) {
				if e.Kind == fleet.EvCommandRejected && want[e.CommandID] == e.Reject {
					n++
				}
			}
			return n == 3
		})
		calls := strings.Join(k.handler.CallsSnapshot(), ",")
		if strings.Contains(calls, "reboot") || strings.Contains(calls, "restart") || strings.Count(calls, "maintenance_on") != 1 {
			t.Errorf("handler calls = %s; refused commands must not run, a replay must not run twice", calls)
		}
	})

	t.Run("last will", func(t *testing.T) {
		k.proxy.Kill()
		waitFor(t, "offline by Last Will", func() bool { s := lastState(col, k1); return s.State == fleet.Offline && s.Will })
	})
}
