package manager_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
)

var testAdmin = manager.User{Name: "test-admin", Role: manager.RoleAdmin}

// hooks is a webhook receiver that keeps the verified events.
type hooks struct {
	mu  sync.Mutex
	evs []manager.WebhookPayload
	bad int
}

func newHooks(t *testing.T, secret string) (*hooks, string) {
	h := &hooks{}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p manager.WebhookPayload
		h.mu.Lock()
		defer h.mu.Unlock()
		if manager.VerifyWebhook(secret, r.Header.Get(manager.HeaderTimestamp), r.Header.Get(manager.HeaderSignature), b, time.Now(), time.Minute) != nil ||
			json.Unmarshal(b, &p) != nil {
			h.bad++
			rw.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.evs = append(h.evs, p)
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL
}

func (h *hooks) events() []manager.WebhookPayload {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]manager.WebhookPayload(nil), h.evs...)
}

// TestNotifyEscalateQuiet: a rule in its quiet hours sends nothing; once
// they end, the still-open alert is told as new, then escalated while it
// stays unacknowledged, then resolved; each sent notification is
// audited. Another site's alert is not this rule's.
func TestNotifyEscalateQuiet(t *testing.T) {
	f := startFleetOpts(t, manager.Options{OfflineAfter: 2})
	k, other := f.ref("k1"), "elsewhere/k1"
	f.kioskEvery(k, &fleettest.Handler{}, time.Second)
	f.kioskEvery(other, &fleettest.Handler{}, time.Second)
	f.waitStatus(k, manager.StatusOnline)
	f.waitStatus(other, manager.StatusOnline)
	h, url := newHooks(t, "s3cret")
	taipei, _ := time.LoadLocation("Asia/Taipei")
	now := time.Now().In(taipei)
	rule, err := f.m.SetRule(testAdmin, manager.Rule{Name: "night", Sites: []string{f.site}, Webhook: url, Secret: "s3cret",
		OnNew: true, OnResolved: true, EscalateAfter: manager.Duration(3 * time.Second),
		QuietFrom: now.Add(-time.Hour).Format("15:04"), QuietTo: now.Add(time.Hour).Format("15:04")})
	if err != nil {
		t.Fatal(err)
	}
	f.proxies[k].Cut()
	f.proxies[other].Cut()
	f.waitFor("offline alerts", func() bool {
		a, _ := f.m.Kiosk(k)
		b, _ := f.m.Kiosk(other)
		return hasAlert(a, manager.AlertOffline) && hasAlert(b, manager.AlertOffline)
	})
	time.Sleep(time.Second)
	if evs := h.events(); len(evs) != 0 {
		t.Fatalf("sent in quiet hours: %+v", evs)
	}
	rule.QuietFrom, rule.QuietTo = "", ""
	if _, err := f.m.SetRule(testAdmin, rule.Rule); err != nil { // the secret stays
		t.Fatal(err)
	}
	f.waitFor("new, then escalated", func() bool { return len(h.events()) >= 2 })
	evs := h.events()
	if evs[0].Event != manager.NotifyNew || evs[1].Event != manager.NotifyEscalated || evs[0].Kiosk != k || evs[0].Kind != "offline" {
		t.Errorf("events = %+v, want new then escalated offline of %s", evs, k)
	}
	f.proxies[k].Restore()
	f.waitFor("resolved", func() bool { return len(h.events()) >= 3 })
	if e := h.events()[2]; e.Event != manager.NotifyResolved || e.Kiosk != k {
		t.Errorf("third event = %+v, want resolved", e)
	}
	time.Sleep(time.Second)
	if n := len(h.events()); n != 3 || h.bad != 0 {
		t.Errorf("%d events (%d badly signed), want 3: nothing for %s", n, h.bad, other)
	}
	audit, _ := f.m.Audit(50)
	n := 0
	for _, a := range audit {
		if a.Action == "notify" && a.Kiosk == k {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d notify entries in the audit log, want 3", n)
	}
}

// TestJobRetryAndExpire: a job waits for an unreachable kiosk and gives
// up when it expires; a cancelled job stops at once.
func TestJobRetryAndExpire(t *testing.T) {
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	f := startFleetOpts(t, manager.Options{Now: clock})
	on, off := f.ref("k1"), f.ref("k2")
	ho := &fleettest.Handler{}
	f.kiosk(on, ho)
	f.kiosk(off, &fleettest.Handler{})
	f.waitStatus(on, manager.StatusOnline)
	f.waitStatus(off, manager.StatusOnline)
	f.proxies[off].Cut()
	f.waitStatus(off, manager.StatusOffline)
	j, err := f.m.CreateJob(testAdmin, manager.JobRequest{Action: fleet.CmdSelfTest, Kiosks: []string{on, off}, Lifetime: manager.Duration(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	f.waitFor("one done, one waiting", func() bool {
		j, _ = f.m.JobFor(testAdmin, j.ID)
		return j.Counts[manager.TargetOK] == 1 && j.Counts[manager.TargetWaiting] == 1
	})
	skew.Store(int64(2 * time.Minute))
	f.waitFor("the job expired", func() bool {
		j, _ = f.m.JobFor(testAdmin, j.ID)
		return !j.Active()
	})
	if j.Counts[manager.TargetOK] != 1 || j.Counts[manager.TargetExpired] != 1 {
		t.Errorf("expired job counts %v, want 1 ok, 1 expired", j.Counts)
	}
	skew.Store(0)
	j2, err := f.m.CreateJob(testAdmin, manager.JobRequest{Action: fleet.CmdSelfTest, Kiosks: []string{off}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.m.CancelJob(manager.User{Name: "v", Role: manager.RoleViewer}, j2.ID); err == nil {
		t.Error("a viewer cancelled a job")
	}
	if err := f.m.CancelJob(testAdmin, j2.ID); err != nil {
		t.Fatal(err)
	}
	f.waitFor("the job cancelled", func() bool {
		j2, _ = f.m.JobFor(testAdmin, j2.ID)
		return !j2.Active() && j2.Counts[manager.TargetCancelled] == 1
	})
	if _, err := f.m.CreateJob(testAdmin, manager.JobRequest{Action: fleet.CmdReboot, Kiosks: []string{on}}); err == nil {
		t.Error("a job may reboot: not one of the job actions")
	}
	if _, err := f.m.CreateJob(testAdmin, manager.JobRequest{Action: fleet.CmdSetLanguage, Language: "fr", Kiosks: []string{on}}); err == nil {
		t.Error("a job set an unknown language")
	}
}

// TestConfigLayers: layers are checked by config's rules before they are
// accepted, in every combination a kiosk takes; later layers win.
func TestConfigLayers(t *testing.T) {
	f := startFleet(t)
	a, b := f.ref("k1"), f.ref("k2")
	hb := &fleettest.Handler{Local: config.Reference()}
	f.kiosk(a, &fleettest.Handler{})
	f.kiosk(b, hb)
	f.waitStatus(a, manager.StatusOnline)
	f.waitStatus(b, manager.StatusOnline)
	if _, err := f.m.SetTags(testAdmin, []string{a, b}, []string{"type:branch"}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.SetTags(testAdmin, []string{b}, []string{"pilot"}, nil); err != nil {
		t.Fatal(err)
	}
	set := func(scope string, rank int, doc string) error {
		return f.m.SetConfigLayer(testAdmin, scope, rank, []byte(doc))
	}
	if err := set(manager.ScopeFleet, 0, `{"session":{"idle_timeout":"10m"}}`); err != nil {
		t.Fatal(err)
	}
	// Alone fine, but with the fleet's idle time too short a session.
	if err := set("group:pilot", 0, `{"session":{"max_duration":"5m"}}`); err == nil {
		t.Error("a group layer that makes sessions shorter than the fleet's idle time was accepted")
	}
	if err := set("group:type:branch", 1, `{"panel":{"buzzer":"GPIO18"}}`); err != nil {
		t.Fatal(err)
	}
	if err := set("group:pilot", 2, `{"panel":{"tamper":"GPIO18"}}`); err == nil {
		t.Error("a pilot layer that puts the tamper switch on the branches' buzzer pin was accepted")
	}
	if err := set("group:pilot", 2, `{"panel":{"buzzer":"GPIO23"},"language":"en"}`); err != nil {
		t.Fatal(err)
	}
	if err := set("group:pilot", 0, `{"upstream":{"client_key_file":"/x"}}`); err == nil {
		t.Error("a layer with a secret's file was accepted")
	}
	o, ls, ok := f.m.DesiredConfig(b)
	if !ok || len(ls) != 3 {
		t.Fatalf("desired for %s: %v, %d layers", b, ok, len(ls))
	}
	if got, want := string(o.JSON()), `{"language":"en","panel":{"buzzer":"GPIO23"},"session":{"idle_timeout":"10m0s"}}`; got != want {
		t.Errorf("desired = %s, want %s (pilot, ranked later, wins)", got, want)
	}
	f.waitFor("both in sync with the last layers", func() bool {
		ka, _ := f.m.Kiosk(a)
		kb, _ := f.m.Kiosk(b)
		return ka.ConfigState() == manager.ConfigInSync && kb.ConfigState() == manager.ConfigInSync && kb.Config.Desired == o.Hash()
	})
	if hb.Applied["panel.buzzer"] == nil || string(hb.Applied["panel.buzzer"]) != `"GPIO23"` {
		t.Errorf("%s runs %s", b, hb.Applied.JSON())
	}
	if err := f.m.SetConfigLayer(manager.User{Name: "v", Role: manager.RoleViewer}, manager.ScopeFleet, 0, []byte(`{}`)); err == nil {
		t.Error("a viewer set the fleet's configuration")
	}
}
