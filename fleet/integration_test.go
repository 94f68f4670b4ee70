package fleet_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
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

// credentials is what enrolls and revokes kiosks at a broker: the embedded
// broker itself, or Mosquitto's Dynamic Security plugin.
type credentials interface {
	SetKiosk(ctx context.Context, k fleet.KioskRef, password string) error
	RevokeKiosk(ctx context.Context, k fleet.KioskRef) error
}

// brokerEnv is a TLS broker with an operator user and two kiosks, k1 and
// k2, of a site of their own (so runs sharing a broker do not meet),
// enrolled with their own random passwords, whichever broker it is.
type brokerEnv struct {
	name     string
	addr     string // host:port of the TLS listener
	caFile   string
	opUser   string
	opPass   string
	site     string
	creds    credentials
	kioskPas map[string]string // user name → password
	embedded *broker.Broker    // nil for Mosquitto
}

func (e *brokerEnv) ref(kiosk string) fleet.KioskRef {
	return fleet.KioskRef{Site: e.site, Kiosk: kiosk}
}

func randomSite(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func (e *brokerEnv) enroll(t *testing.T, kiosks ...string) {
	t.Helper()
	e.kioskPas = map[string]string{}
	for _, k := range kiosks {
		b := make([]byte, 24)
		rand.Read(b)
		pw := hex.EncodeToString(b)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := e.creds.SetKiosk(ctx, e.ref(k), pw)
		cancel()
		if err != nil {
			t.Fatalf("enroll %s: %v", k, err)
		}
		e.kioskPas[e.ref(k).Username()] = pw
	}
}

func mosquittoEnv(t *testing.T) *brokerEnv {
	addr := itest.Env(t, "NHIKIOSK_MQTT_TLS_ADDR", "Mosquitto (TLS listener)")
	dir := itest.Env(t, "NHIKIOSK_MQTT_DIR", "Mosquitto (TLS listener)")
	b, err := os.ReadFile(filepath.Join(dir, "users", "fleetd.pass"))
	if err != nil {
		t.Fatal(err)
	}
	e := &brokerEnv{name: "mosquitto", addr: addr, caFile: filepath.Join(dir, "ca.pem"), opUser: "fleetd",
		opPass: strings.TrimSpace(string(b)), site: randomSite("itest")}
	var ds *broker.Dynsec
	admin := newClientOpts(t, e, "fleetd", e.opPass, "fleetd-admin-"+e.site, func(o *mqtt.ClientOptions) {
		o.SetOnConnectHandler(func(c mqtt.Client) { ds.Attach(c) })
	}, &ds)
	e.creds = ds
	e.enroll(t, "k1", "k2")
	t.Cleanup(func() {
		for _, k := range []string{"k1", "k2"} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			ds.DeleteKiosk(ctx, e.ref(k))
			cancel()
			for _, ch := range []string{fleet.ChanState, fleet.ChanHealth} { // the broker is shared
				admin.Publish(fleet.Topic(e.ref(k), ch), 1, true, []byte{}).WaitTimeout(5 * time.Second)
			}
		}
	})
	return e
}

func embeddedEnv(t *testing.T, lim broker.Limits) *brokerEnv {
	ca := fleettest.NewCA(t)
	b, err := broker.Start(broker.Config{Addr: "127.0.0.1:0", TLS: ca.ServerTLS(),
		Operators: map[string]string{"fleetd": "operator-test-password"}, Limits: lim})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	e := &brokerEnv{name: "embedded", addr: b.Addr(), caFile: ca.CAFile, opUser: "fleetd", opPass: "operator-test-password",
		site: randomSite("itest"), creds: b, embedded: b}
	e.enroll(t, "k1", "k2")
	return e
}

func TestMosquittoTLSACL(t *testing.T) { runSuite(t, mosquittoEnv(t)) }

func TestEmbeddedBrokerTLSACL(t *testing.T) { runSuite(t, embeddedEnv(t, broker.Limits{})) }

// collector is an operator-side client that keeps every message by topic.
type collector struct {
	mu   sync.Mutex
	msgs map[string][][]byte
	c    mqtt.Client
}

func newClient(t *testing.T, env *brokerEnv, user, pass, id string) mqtt.Client {
	t.Helper()
	return newClientOpts(t, env, user, pass, id, nil, nil)
}

// newClientOpts connects a client; with ds, it also makes *ds a Dynsec on
// it before connecting (its OnConnect handler attaches it).
func newClientOpts(t *testing.T, env *brokerEnv, user, pass, id string, mod func(*mqtt.ClientOptions), ds **broker.Dynsec) mqtt.Client {
	t.Helper()
	c, err := dial(env, user, pass, id, mod, ds)
	if err != nil {
		t.Fatalf("connect %s as %s: %v", user, id, err)
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

func dial(env *brokerEnv, user, pass, id string, mod func(*mqtt.ClientOptions), ds **broker.Dynsec) (mqtt.Client, error) {
	tc, err := fleet.TLSConfigFor(config.MQTT{CAFile: env.caFile})
	if err != nil {
		return nil, err
	}
	o := mqtt.NewClientOptions().AddBroker("mqtts://" + env.addr).SetClientID(id).SetUsername(user).
		SetPassword(pass).SetTLSConfig(tc).SetConnectTimeout(5 * time.Second).SetAutoReconnect(false)
	if mod != nil {
		mod(o)
	}
	c := mqtt.NewClient(o)
	if ds != nil {
		*ds = broker.NewDynsec(c)
	}
	if tk := c.Connect(); !tk.WaitTimeout(10*time.Second) || tk.Error() != nil {
		return nil, tk.Error()
	}
	return c, nil
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
func startKiosk(t *testing.T, env *brokerEnv) *kioskUnderTest {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	k := &kioskUnderTest{ref: env.ref("k1"), handler: &fleettest.Handler{},
		signer: fleet.Signer{KeyID: "ops-1", Key: priv}, proxy: fleettest.NewProxy(t, env.addr)}
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cfg := config.MQTT{BrokerURL: "mqtts://" + k.proxy.Addr(), Username: k.ref.Username(),
		PasswordFile: write("pass", env.kioskPas[k.ref.Username()]), CAFile: env.caFile,
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

func runSuite(t *testing.T, env *brokerEnv) {
	op := newClient(t, env, env.opUser, env.opPass, "op-"+env.site)
	col := newCollector(t, op, "nhikiosk/v1/"+env.site+"/#")
	k := startKiosk(t, env)
	k1, k2 := k.ref, env.ref("k2")

	waitFor(t, "k1 online with birth", func() bool { s := lastState(col, k1); return s.State == fleet.Online && s.Birth != nil })
	waitFor(t, "k1 health", func() bool { return len(col.get(fleet.Topic(k1, fleet.ChanHealth))) > 0 })
	if s := lastState(col, k1); s.Birth.HealthIntervalS != 1 {
		t.Errorf("birth says health every %d s, want 1 (its configured interval)", s.Birth.HealthIntervalS)
	}

	t.Run("acl", func(t *testing.T) {
		other := newClient(t, env, k2.Username(), env.kioskPas[k2.Username()], k2.ClientID())
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

	// Issue 14, finding 4: any kiosk could knock another offline by
	// connecting with the other's client id.
	t.Run("client id bound to the user", func(t *testing.T) {
		before := len(col.get(fleet.Topic(k1, fleet.ChanState)))
		healthBefore := len(col.get(fleet.Topic(k1, fleet.ChanHealth)))
		c, err := dial(env, k2.Username(), env.kioskPas[k2.Username()], k1.ClientID(), nil, nil)
		if err == nil {
			c.Disconnect(100)
			t.Errorf("%s connected with %s's client id", k2.Username(), k1.Username())
		}
		waitFor(t, "k1 keeps publishing health", func() bool {
			return len(col.get(fleet.Topic(k1, fleet.ChanHealth))) >= healthBefore+2
		})
		for _, b := range col.get(fleet.Topic(k1, fleet.ChanState))[before:] {
			var s fleet.State
			if json.Unmarshal(b, &s); s.State == fleet.Offline {
				t.Errorf("k1 announced offline after k2 used its client id: %s", b)
			}
		}
		// Nor may a kiosk use an operator's or a made-up id.
		if c, err := dial(env, k2.Username(), env.kioskPas[k2.Username()], "op-"+env.site, nil, nil); err == nil {
			c.Disconnect(100)
			t.Errorf("%s connected with the operator's client id", k2.Username())
		}
	})

	// Issue 14, finding 9: a command stamped 14 minutes ahead ran at once.
	t.Run("command from the future", func(t *testing.T) {
		now := time.Now()
		c := fleet.Command{V: 1, ID: "future-1", Site: k1.Site, Kiosk: k1.Kiosk, Name: fleet.CmdReboot,
			Issued: now.Add(14 * time.Minute), Expires: now.Add(15 * time.Minute)}
		k.signer.Sign(&c)
		publish(t, op, fleet.Topic(k1, fleet.ChanCmd), c)
		waitFor(t, "the refusal", func() bool { a, ok := acks(col, k1)["future-1"]; return ok && a.Status == fleet.AckRejected })
		if a := acks(col, k1)["future-1"]; a.Reject != fleet.RejectNotYetValid {
			t.Errorf("ack = %+v, want rejected %s", a, fleet.RejectNotYetValid)
		}
		if calls := strings.Join(k.handler.CallsSnapshot(), ","); strings.Contains(calls, "reboot") {
			t.Errorf("a command from the future ran: %s", calls)
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

	// Issue 14, finding 3: five 100 MB retained publishes by one kiosk to
	// its own topic took fleetd from 20 MiB to 994 MiB.
	t.Run("oversize retained publish", func(t *testing.T) {
		hostile := newClient(t, env, k2.Username(), env.kioskPas[k2.Username()], k2.ClientID())
		big := bytes.Repeat([]byte("x"), 2<<20)
		tk := hostile.Publish(fleet.Topic(k2, fleet.ChanHealth), 1, true, big)
		tk.WaitTimeout(5 * time.Second)
		waitFor(t, "the broker to drop the hostile client", func() bool { return !hostile.IsConnectionOpen() })
		if env.embedded != nil {
			// The embedded broker also bounds each channel: a retained
			// health far over a real one is refused.
			again := newClient(t, env, k2.Username(), env.kioskPas[k2.Username()], k2.ClientID())
			again.Publish(fleet.Topic(k2, fleet.ChanHealth), 1, true, bytes.Repeat([]byte("y"), 100<<10)).WaitTimeout(5 * time.Second)
			waitFor(t, "the broker to drop it again", func() bool { return !again.IsConnectionOpen() })
			if n := env.embedded.Stats().Oversize.Load(); n == 0 {
				t.Error("no oversize publish counted")
			}
		}
		// A newcomer gets no large retained message for k2.
		fresh := newClient(t, env, env.opUser, env.opPass, "op2-"+env.site)
		got := newCollector(t, fresh, fleet.Topic(k2, fleet.ChanHealth))
		time.Sleep(500 * time.Millisecond)
		for _, m := range got.get(fleet.Topic(k2, fleet.ChanHealth)) {
			if len(m) > fleet.MaxHealthPayload {
				t.Errorf("the broker kept a retained health of %d bytes", len(m))
			}
		}
	})

	// Issue 14, finding 10: one kiosk's credential can be taken back alone.
	t.Run("revoke one kiosk", func(t *testing.T) {
		victim := newClientOpts(t, env, k2.Username(), env.kioskPas[k2.Username()], k2.ClientID(), nil, nil)
		healthBefore := len(col.get(fleet.Topic(k1, fleet.ChanHealth)))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := env.creds.RevokeKiosk(ctx, k2); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "k2's session to be dropped", func() bool { return !victim.IsConnectionOpen() })
		if c, err := dial(env, k2.Username(), env.kioskPas[k2.Username()], k2.ClientID(), nil, nil); err == nil {
			c.Disconnect(100)
			t.Error("revoked k2 connected again")
		}
		waitFor(t, "k1 still publishing", func() bool { return len(col.get(fleet.Topic(k1, fleet.ChanHealth))) >= healthBefore+2 })
	})

	t.Run("last will", func(t *testing.T) {
		k.proxy.Kill()
		waitFor(t, "offline by Last Will", func() bool { s := lastState(col, k1); return s.State == fleet.Offline && s.Will })
	})
}

// TestEmbeddedBrokerRateLimit: one kiosk cannot flood the embedded broker;
// past its budget the broker reads from it no faster than the rate.
func TestEmbeddedBrokerRateLimit(t *testing.T) {
	lim := broker.Limits{MsgRate: 5, MsgBurst: 20}
	env := embeddedEnv(t, lim)
	op := newClient(t, env, env.opUser, env.opPass, "op-"+env.site)
	k2 := env.ref("k2")
	col := newCollector(t, op, fleet.Topic(k2, fleet.ChanEvent))
	flood := newClient(t, env, k2.Username(), env.kioskPas[k2.Username()], k2.ClientID())
	ev, _ := json.Marshal(fleet.Event{V: 1, Kind: fleet.EvHelpRequested})
	start := time.Now()
	for i := 0; i < 300 && time.Since(start) < 2*time.Second; i++ {
		flood.Publish(fleet.Topic(k2, fleet.ChanEvent), 0, false, ev)
	}
	time.Sleep(time.Second)
	n, elapsed := len(col.get(fleet.Topic(k2, fleet.ChanEvent))), time.Since(start)
	if limit := float64(lim.MsgBurst) + lim.MsgRate*elapsed.Seconds() + 5; float64(n) > limit {
		t.Errorf("operator received %d of the flood in %v, want at most %.0f (burst %d + %g/s)", n, elapsed.Round(time.Millisecond), limit, lim.MsgBurst, lim.MsgRate)
	}
	if n < lim.MsgBurst {
		t.Errorf("operator received %d, want at least the burst %d", n, lim.MsgBurst)
	}
	if env.embedded.Stats().Throttled.Load() == 0 {
		t.Error("no publish counted as throttled")
	}
}

// TestMosquittoConfMatchesSchema: the documented Mosquitto configuration
// bounds packets at the schema's limit.
func TestMosquittoConfMatchesSchema(t *testing.T) {
	b, err := os.ReadFile("../.ci/services/mosquitto.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"max_packet_size " + itoa(fleet.MaxPacket), "max_qos 1", "mosquitto_dynamic_security.so"} {
		if !strings.Contains(string(b), want) {
			t.Errorf(".ci/services/mosquitto.sh lacks %q", want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
