package manager_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
)

// The tests of issue 14's findings that involve a broker, each against the
// embedded broker and against Mosquitto (TLS, Dynamic Security). The
// restart tests are in cmd/fleetd (they restart a real fleetd process).

// TestBrokerOutage: finding 6 — a broker outage was invisible: /healthz
// said ok and every kiosk stayed online.
func TestBrokerOutage(t *testing.T) {
	eachBroker(t, manager.Options{}, func(t *testing.T, f *fleetUnderTest) {
		k1 := f.ref("k1")
		f.kiosk(k1, &fleettest.Handler{})
		f.waitStatus(k1, manager.StatusOnline)
		if code, _ := f.get("/healthz"); code != http.StatusOK {
			t.Fatalf("/healthz = %d before the outage, want 200", code)
		}
		f.bus.Cut() // fleetd's link to the broker
		f.waitFor("the outage noticed", func() bool { return !f.m.BrokersUp() })
		f.waitStatus(k1, manager.StatusUnknown)
		if code, body := f.get("/healthz"); code != http.StatusServiceUnavailable {
			t.Errorf("/healthz during the outage = %d %q, want 503", code, body)
		}
		if _, m := f.get("/metrics"); !strings.Contains(m, "fleetd_broker_up{") || !strings.Contains(m, "} 0\n") ||
			!strings.Contains(m, `fleetd_alerts{kind="broker_down"} 1`) {
			t.Errorf("metrics during the outage lack broker_up 0 and the alert:\n%s", grep(m, "broker"))
		}
		code, body := f.api("GET", "/api/v1/alerts", "viewer", "test-viewer-pw", "")
		var al manager.AlertList
		json.Unmarshal([]byte(body), &al)
		if code != 200 || len(al.Alerts) == 0 || al.Alerts[0].Kind != manager.AlertBrokerDown || al.Alerts[0].Kiosk != "" {
			t.Errorf("alerts during the outage = %d %s, want the fleet-wide broker_down first", code, body)
		}
		if page := f.page("op", "test-operator-pw", "/"); !strings.Contains(page, "The broker is unreachable") {
			t.Errorf("overview during the outage has no banner:\n%.2000s", page)
		}
		f.bus.Restore()
		f.waitFor("the broker back", f.m.BrokersUp)
		f.waitStatus(k1, manager.StatusOnline)
		if code, _ := f.get("/healthz"); code != http.StatusOK {
			t.Errorf("/healthz after the outage = %d, want 200", code)
		}
		if as, _ := f.m.Alerts(0); len(as) != 0 && as[0].Kind == manager.AlertBrokerDown {
			t.Errorf("broker_down still raised after the outage: %+v", as[0])
		}
	})
}

// TestRevokeOneKiosk: finding 10 — every kiosk's password derived from one
// secret, so a stolen kiosk could not be revoked alone. Now fleetd revokes
// one at once: its session is dropped, it cannot reconnect, and the other
// kiosks go on.
func TestRevokeOneKiosk(t *testing.T) {
	eachBroker(t, manager.Options{}, func(t *testing.T, f *fleetUnderTest) {
		stolen, other := f.ref("k1"), f.ref("k2")
		f.kiosk(other, &fleettest.Handler{})
		pw := f.enroll(stolen)
		ref, _ := fleet.ParseKioskRef(stolen)
		victim, err := f.mqttClient(ref.Username(), pw, ref.ClientID())
		if err != nil {
			t.Fatalf("the enrolled kiosk cannot connect: %v", err)
		}
		defer victim.Disconnect(100)
		f.waitStatus(other, manager.StatusOnline)
		code, body := f.api("POST", "/api/v1/kiosks/"+stolen+"/revoke", "op", "test-operator-pw", "{}")
		if code != http.StatusOK {
			t.Fatalf("revoke = %d %s", code, body)
		}
		f.waitFor("the stolen kiosk's session dropped", func() bool { return !victim.IsConnectionOpen() })
		if c, err := f.mqttClient(ref.Username(), pw, ref.ClientID()); err == nil {
			c.Disconnect(100)
			t.Error("the revoked kiosk connected again")
		}
		k, _ := f.m.Kiosk(stolen)
		if !k.Revoked() || k.Status != manager.StatusOffline {
			t.Errorf("revoked kiosk: revoked=%v status=%q, want revoked and offline", k.Revoked(), k.Status)
		}
		o0, _ := f.m.Kiosk(other)
		f.waitFor("the other kiosk still heard", func() bool { o, _ := f.m.Kiosk(other); return o.LastHeard.After(o0.LastHeard) })
		if o, _ := f.m.Kiosk(other); o.Status != manager.StatusOnline {
			t.Errorf("the other kiosk is %q after the revocation, want online", o.Status)
		}
		if _, body := f.api("GET", "/api/v1/audit", "viewer", "test-viewer-pw", ""); !strings.Contains(body, `"action": "revoke"`) {
			t.Errorf("audit lacks the revocation: %s", body)
		}
		if code, _ := f.api("POST", "/api/v1/kiosks/"+other+"/revoke", "viewer", "test-viewer-pw", "{}"); code != http.StatusForbidden {
			t.Errorf("a viewer revoking: %d, want 403", code)
		}
	})
}

// TestHostilePayloads: finding 3 on fleetd's side (what a broker accepts,
// fleetd still refuses past the schema's size) and finding 9 (−1e300 °C
// was shown as a 300-digit number): refused, counted, not kept.
func TestHostilePayloads(t *testing.T) {
	eachBroker(t, manager.Options{}, func(t *testing.T, f *fleetUnderTest) {
		name := f.ref("k1")
		pw := f.enroll(name)
		ref, _ := fleet.ParseKioskRef(name)
		c, err := f.mqttClient(ref.Username(), pw, ref.ClientID())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Disconnect(100)
		const invalid = `fleetd_messages_invalid_total{channel="health"}`
		time.Sleep(300 * time.Millisecond) // what a shared broker replays to a new subscriber
		base := f.metric(invalid)
		temp := -1e300
		h := fleettest.Health()
		h.V, h.TS, h.CPUTempC = 1, time.Now().UTC(), &temp
		cold, _ := json.Marshal(h)
		if tk := c.Publish(fleet.Topic(ref, fleet.ChanHealth), 1, true, cold); !tk.WaitTimeout(5*time.Second) || tk.Error() != nil {
			t.Fatalf("publish: %v", tk.Error())
		}
		defer func() {
			if t.Failed() {
				_, m := f.get("/metrics")
				t.Logf("metrics:\n%s", grep(m, "messages"))
			}
		}()
		f.waitFor("the cold health refused", func() bool { return f.metric(invalid) == base+1 })
		if k, _ := f.m.Kiosk(name); k.Health != nil {
			t.Errorf("fleetd kept a health of %v °C", *k.Health.CPUTempC)
		}
		if page := f.page("op", "test-operator-pw", "/kiosks/"+name); strings.Contains(page, "00000000") {
			t.Errorf("the kiosk page shows a huge number:\n%.3000s", page)
		}
		// A health far over the schema's size: Mosquitto passes it on
		// (under its packet limit), fleetd refuses it; the embedded broker
		// already drops the kiosk.
		big := append(append([]byte(`{"v":1,"pad":"`), bytes.Repeat([]byte("x"), 100<<10)...), `"}`...)
		c2, err := f.mqttClient(ref.Username(), pw, ref.ClientID())
		if err != nil {
			t.Fatal(err)
		}
		defer c2.Disconnect(100)
		c2.Publish(fleet.Topic(ref, fleet.ChanHealth), 0, true, big).WaitTimeout(5 * time.Second)
		f.waitFor("the large health refused", func() bool {
			return f.metric(invalid) == base+2 || f.brk != nil && f.brk.Stats().Oversize.Load() > 0
		})
		if k, _ := f.m.Kiosk(name); k.Health != nil {
			t.Error("fleetd kept a health")
		}
	})
}

// TestIntakeRateLimit: a kiosk flooding fleetd (through a broker without
// rate limits) has the excess dropped and counted, not stored.
func TestIntakeRateLimit(t *testing.T) {
	eachBroker(t, manager.Options{IntakeRate: 2, IntakeBurst: 10}, func(t *testing.T, f *fleetUnderTest) {
		name := f.ref("k1")
		pw := f.enroll(name)
		ref, _ := fleet.ParseKioskRef(name)
		c, err := f.mqttClient(ref.Username(), pw, ref.ClientID())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Disconnect(100)
		start := time.Now()
		for i := range 200 {
			ev, _ := json.Marshal(fleet.Event{V: 1, TS: time.Now().UTC(), Seq: uint64(i + 1), Kind: fleet.EvHelpRequested})
			c.Publish(fleet.Topic(ref, fleet.ChanEvent), 0, false, ev)
		}
		f.waitFor("the flood counted", func() bool { return f.metric("fleetd_messages_rate_limited_total") > 0 })
		time.Sleep(500 * time.Millisecond)
		f.m.Flush(t.Context())
		evs, _ := f.m.Events(name, start.Add(-time.Minute), 0)
		if limit := 10 + 2*time.Since(start).Seconds() + 1; float64(len(evs)) > limit {
			t.Errorf("fleetd stored %d of 200 flooded events, want at most %.0f", len(evs), limit)
		}
	})
}

// TestLogLinesBounded: finding 9 — a refused 2 MB publish became a 6 MB log
// line. Neither the broker nor fleetd logs a payload.
func TestLogLinesBounded(t *testing.T) {
	var buf lockedBuffer
	log := slog.New(slog.NewTextHandler(&buf, nil)) // no bounding handler: the code itself must not log payloads
	eachBroker(t, manager.Options{Logger: log}, func(t *testing.T, f *fleetUnderTest) {
		k1, k2 := f.ref("k1"), f.ref("k2")
		f.enroll(k1)
		pw := f.enroll(k2)
		ref, _ := fleet.ParseKioskRef(k2)
		victim, _ := fleet.ParseKioskRef(k1)
		for _, size := range []int{500 << 10, 2 << 20} {
			c, err := f.mqttClient(ref.Username(), pw, ref.ClientID())
			if err != nil {
				t.Fatal(err)
			}
			big := bytes.Repeat([]byte("z"), size)
			// Another kiosk's topic (refused by the ACL), then its own.
			c.Publish(fleet.Topic(victim, fleet.ChanState), 1, false, big).WaitTimeout(3 * time.Second)
			if c.IsConnectionOpen() {
				c.Publish(fleet.Topic(ref, fleet.ChanHealth), 1, false, big).WaitTimeout(3 * time.Second)
			}
			c.Disconnect(100)
		}
		time.Sleep(500 * time.Millisecond)
		for _, line := range strings.Split(buf.String(), "\n") {
			if len(line) > 2048 {
				t.Fatalf("a log line of %d bytes: %.300s…", len(line), line)
			}
		}
	})
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func grep(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
