package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
	"github.com/nhikiosk/nhikiosk/internal/itest"
	"github.com/nhikiosk/nhikiosk/upstream/upstreamtest"
)

// opsFleet is a real fleetd process on Mosquitto (TLS, Dynamic Security,
// fleetd enrolling the kiosks) with 50 real agents: 20 at site A, 30 at
// site B, all in group region:north, B's also in type:branch.
type opsFleet struct {
	p              *fleetdProc
	admin          apiClient
	siteA, siteB   string
	names          []string
	kiosks         map[string]*testKiosk
	handlers       map[string]*fleettest.Handler
	mailTo, secret string
	hook           *webhookReceiver
}

const opsKiosks, opsSiteA = 50, 20

// TestFleetOperations (issue 19) against a real fleetd, the real agent and
// Mosquitto: a bulk maintenance-on to a 50-kiosk group while 10 are
// offline, which reach it when they come back before the job expires; a
// desired configuration one kiosk refuses (invalid for its panel) and
// that shows as drift; a notification by Mailpit and webhook when a kiosk
// goes offline, and when it is back; a viewer restricted to one site who
// cannot see or act on another.
func TestFleetOperations(t *testing.T) {
	b := mosquittoSide(t)
	smtp := itest.Env(t, "NHIKIOSK_SMTP_ADDR", "Mailpit (SMTP catcher)")
	mailpit := upstreamtest.Mailpit{API: itest.Env(t, "NHIKIOSK_MAILPIT_API", "Mailpit (SMTP catcher)")}
	f := startOpsFleet(t, b, smtp)
	t.Run("bulk maintenance with 10 offline", func(t *testing.T) { f.bulkMaintenance(t) })
	t.Run("configuration refused by one kiosk is drift", func(t *testing.T) { f.configDrift(t) })
	t.Run("notification of offline and back", func(t *testing.T) { f.notifyOffline(t, mailpit) })
	t.Run("viewer restricted to one site", func(t *testing.T) { f.restricted(t) })
}

func startOpsFleet(t *testing.T, b brokerSide, smtp string) *opsFleet {
	f := &opsFleet{siteA: b.site + "-a", siteB: b.site + "-b", kiosks: map[string]*testKiosk{}, handlers: map[string]*fleettest.Handler{}}
	f.hook = newWebhookReceiver(t)
	httpAddr := freePort(t)
	f.p = startFleetd(t, append([]string{"-data", t.TempDir(), "-http", httpAddr, "-health-interval", "1s", "-offline-after", "3",
		"-smtp", smtp, "-smtp-from", "fleetd@fleet.test", "-public-url", "http://" + httpAddr}, b.args...)...)
	f.admin = f.p.client(f.p.banner["password"])
	var refs []fleet.KioskRef
	for i := range opsKiosks {
		site := f.siteA
		if i >= opsSiteA {
			site = f.siteB
		}
		ref := fleet.KioskRef{Site: site, Kiosk: fmt.Sprintf("k%02d", i)}
		refs = append(refs, ref)
		f.names = append(f.names, ref.String())
	}
	t.Cleanup(func() { b.cleanup(refs) })
	creds, err := f.admin.enroll(f.names)
	if err != nil {
		t.Fatal(err)
	}
	for i, ref := range refs {
		h := &fleettest.Handler{}
		if i == opsSiteA+7 {
			// Its tamper switch is on the pin the branches' buzzer uses.
			h.Local = config.Reference()
			h.Local.Panel.Tamper = "GPIO18"
		}
		f.handlers[ref.String()] = h
		f.kiosks[ref.String()] = b.startKioskWith(t, ref, creds[i].Password, creds[i].OperatorKey, fleettest.Health, h)
	}
	f.tag(t, f.names, "region:north")
	f.tag(t, f.names[opsSiteA:], "type:branch")
	waitUntil(t, "50 kiosks online", 60*time.Second, func() bool { return f.count(t, "tag=region:north&status=online") == opsKiosks })
	return f
}

func (f *opsFleet) tag(t *testing.T, names []string, tag string) {
	t.Helper()
	var res map[string]int
	if err := f.admin.do("POST", "/api/v1/tags", map[string]any{"kiosks": names, "add": []string{tag}}, &res); err != nil {
		t.Fatal(err)
	}
}

// count is how many kiosks fleetd's API lists for query q.
func (f *opsFleet) count(t *testing.T, q string) int {
	t.Helper()
	var page manager.KioskList
	if err := f.admin.do("GET", "/api/v1/kiosks?limit=1&"+q, nil, &page); err != nil {
		t.Fatal(err)
	}
	return page.Total
}

func (f *opsFleet) job(t *testing.T, c apiClient, id string) manager.Job {
	t.Helper()
	var j manager.Job
	if err := c.do("GET", "/api/v1/jobs/"+id, nil, &j); err != nil {
		t.Fatal(err)
	}
	return j
}

func calls(h *fleettest.Handler, name string) int {
	n := 0
	for _, c := range h.CallsSnapshot() {
		if c == name {
			n++
		}
	}
	return n
}

func (f *opsFleet) bulkMaintenance(t *testing.T) {
	offline := slices.Concat(f.names[3:8], f.names[opsSiteA+2:opsSiteA+7]) // 5 at each site
	for _, n := range offline {
		f.kiosks[n].proxy.Cut()
	}
	waitUntil(t, "10 kiosks offline", 20*time.Second, func() bool { return f.count(t, "tag=region:north&status=offline") == 10 })
	var j manager.Job
	if err := f.admin.do("POST", "/api/v1/jobs", manager.JobRequest{Action: fleet.CmdMaintenanceOn, Tags: []string{"region:north"},
		Lifetime: manager.Duration(10 * time.Minute)}, &j); err != nil {
		t.Fatal(err)
	}
	if j.Total != opsKiosks {
		t.Fatalf("job for %d kiosks, want %d", j.Total, opsKiosks)
	}
	waitUntil(t, "40 done, 10 waiting", 30*time.Second, func() bool {
		j = f.job(t, f.admin, j.ID)
		return j.Counts[manager.TargetOK] == 40 && j.Counts[manager.TargetWaiting] == 10
	})
	for _, tg := range j.Targets {
		if slices.Contains(offline, tg.Kiosk) != (tg.State == manager.TargetWaiting) {
			t.Errorf("%s is %s", tg.Kiosk, tg.State)
		}
	}
	for _, n := range offline {
		if c := calls(f.handlers[n], "maintenance_on"); c != 0 {
			t.Errorf("offline %s ran maintenance_on %d times", n, c)
		}
	}
	back := time.Now()
	for _, n := range offline {
		f.kiosks[n].proxy.Restore()
	}
	waitUntil(t, "the job finished, all 50 done", 60*time.Second, func() bool {
		j = f.job(t, f.admin, j.ID)
		return !j.Active()
	})
	if j.Counts[manager.TargetOK] != opsKiosks {
		t.Fatalf("job finished with %v, want all %d ok", j.Counts, opsKiosks)
	}
	t.Logf("the 10 kiosks that came back were done %v after their links were restored", time.Since(back).Round(100*time.Millisecond))
	for _, n := range f.names {
		if c := calls(f.handlers[n], "maintenance_on"); c != 1 {
			t.Errorf("%s ran maintenance_on %d times, want once", n, c)
		}
	}
	waitUntil(t, "50 kiosks in maintenance", 20*time.Second, func() bool { return f.count(t, "tag=region:north&status=maintenance") == opsKiosks })
	var audit []manager.AuditEntry
	if err := f.admin.do("GET", "/api/v1/audit?limit=50", nil, &audit); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(audit, func(a manager.AuditEntry) bool {
		return a.Action == "job_create" && a.User == "admin" && strings.HasPrefix(a.Detail, j.ID)
	}) {
		t.Errorf("no job_create by admin in the audit log")
	}
}

func (f *opsFleet) configDrift(t *testing.T) {
	for _, tt := range []struct{ doc, field string }{
		{`{"session":{"max_duration":"1m"}}`, "session.max_duration"},
		{`{"mqtt":{"password_file":"/tmp/pw"}}`, "mqtt.password_file"},
	} {
		err := f.admin.do("PUT", "/api/v1/config/fleet", map[string]any{"config": json.RawMessage(tt.doc)}, &map[string]any{})
		if err == nil || !strings.Contains(err.Error(), "422") || !strings.Contains(err.Error(), tt.field) {
			t.Errorf("fleet layer %s: %v, want 422 naming %s", tt.doc, err, tt.field)
		}
	}
	set := func(scope, doc string) {
		t.Helper()
		if err := f.admin.do("PUT", "/api/v1/config/"+scope, map[string]any{"config": json.RawMessage(doc)}, &map[string]any{}); err != nil {
			t.Fatal(err)
		}
	}
	set("fleet", `{"session":{"idle_timeout":"45s"}}`)
	set("group:type:branch", `{"panel":{"buzzer":"GPIO18"}}`)
	odd := f.names[opsSiteA+7]
	waitUntil(t, "the branch kiosks in sync and one refused", 60*time.Second, func() bool {
		return f.count(t, "config=in_sync") == opsKiosks-1 && f.count(t, "config=refused") == 1
	})
	k := f.admin.kiosk(t, odd)
	if k.ConfigState() != manager.ConfigRefused || k.Config.Field != "panel.tamper" || hasAlert(k, manager.AlertConfigDrift) == nil {
		t.Errorf("%s: state %s, field %q, alerts %+v; want refused on panel.tamper with a config_drift alert", odd, k.ConfigState(), k.Config.Field, k.Alerts)
	}
	if k.ReportedConfig() == k.Config.Desired {
		t.Error("the refusing kiosk reports the desired hash")
	}
	var res map[string]any
	if err := f.admin.do("GET", "/api/v1/kiosks/"+odd+"/config", nil, &res); err != nil || res["state"] != manager.ConfigRefused {
		t.Errorf("config of %s = %v, %v", odd, res, err)
	}
	for _, n := range f.names {
		if n != odd && slices.Contains(f.handlers[n].CallsSnapshot(), "apply_config refused") {
			t.Errorf("%s refused", n)
		}
	}
	// Its own layer lifts the conflict: no buzzer on this kiosk.
	set("kiosk:"+odd, `{"panel":{"buzzer":""}}`)
	waitUntil(t, "the odd kiosk in sync once its own layer wins", 30*time.Second, func() bool {
		k := f.admin.kiosk(t, odd)
		return k.ConfigState() == manager.ConfigInSync && hasAlert(k, manager.AlertConfigDrift) == nil
	})
}

func (f *opsFleet) notifyOffline(t *testing.T, mailpit upstreamtest.Mailpit) {
	f.mailTo = fmt.Sprintf("oncall-%s@fleet.test", f.siteA)
	f.secret = "webhook-secret-" + f.siteA
	var rule manager.RuleView
	if err := f.admin.do("POST", "/api/v1/rules", manager.Rule{Name: "site A offline", Kinds: []manager.AlertKind{manager.AlertOffline},
		Sites: []string{f.siteA}, Email: []string{f.mailTo}, Webhook: f.hook.srv.URL, Secret: f.secret, OnNew: true, OnResolved: true}, &rule); err != nil {
		t.Fatal(err)
	}
	if rule.Secret != "" || !rule.SecretSet {
		t.Errorf("the API shows the webhook secret: %+v", rule)
	}
	a, other := f.names[1], f.names[opsSiteA+1]
	f.kiosks[a].proxy.Cut()
	f.kiosks[other].proxy.Cut() // site B: not this rule's
	mail := mailpit.Wait(t, f.mailTo, 1)
	if !strings.Contains(mail.Subject, a) || !strings.Contains(mail.Subject, "離線") || !strings.Contains(mail.Text, "offline") {
		t.Errorf("new alert mail: subject %q, text %q", mail.Subject, mail.Text)
	}
	ev := f.hook.wait(t, f.secret, 1)
	if ev.Event != manager.NotifyNew || ev.Kiosk != a || ev.Kind != "offline" || ev.Site != f.siteA {
		t.Errorf("webhook = %+v, want new offline of %s", ev, a)
	}
	f.kiosks[a].proxy.Restore()
	mail = mailpit.Wait(t, f.mailTo, 2)
	if !strings.Contains(mail.Subject, "已解除") || !strings.Contains(mail.Text, "resolved") {
		t.Errorf("resolved mail: subject %q, text %q", mail.Subject, mail.Text)
	}
	if ev := f.hook.wait(t, f.secret, 2); ev.Event != manager.NotifyResolved || ev.Kiosk != a {
		t.Errorf("webhook = %+v, want resolved %s", ev, a)
	}
	if k := f.admin.kiosk(t, other); hasAlert(k, manager.AlertOffline) == nil {
		t.Errorf("%s has no offline alert", other)
	}
	f.kiosks[other].proxy.Restore()
	time.Sleep(2 * time.Second) // what would have been told of site B
	if n := len(mailpit.To(t, f.mailTo)); n != 2 {
		t.Errorf("%d mails, want 2 (site B's alert is not this rule's)", n)
	}
	if n := f.hook.count(); n != 2 {
		t.Errorf("%d webhooks, want 2", n)
	}
	var audit []manager.AuditEntry
	if err := f.admin.do("GET", "/api/v1/audit?limit=200", nil, &audit); err != nil {
		t.Fatal(err)
	}
	notified := 0
	for _, e := range audit {
		if e.Action == "notify" && e.Kiosk == a {
			notified++
			if strings.Contains(e.Detail, "@") {
				t.Errorf("audit entry names an address: %q", e.Detail)
			}
		}
	}
	if notified != 4 {
		t.Errorf("%d notify entries in the audit log, want 4 (mail and webhook, new and resolved)", notified)
	}
}

func (f *opsFleet) restricted(t *testing.T) {
	var res map[string]string
	if err := f.admin.do("POST", "/api/v1/users", map[string]any{"name": "viewer-a", "role": "viewer", "sites": []string{f.siteA}}, &res); err != nil {
		t.Fatal(err)
	}
	viewer := apiClient{base: f.p.http, user: "viewer-a", pass: res["password"], http: &http.Client{Timeout: 30 * time.Second}}
	if err := f.admin.do("POST", "/api/v1/users", map[string]any{"name": "operator-a", "role": "operator", "sites": []string{f.siteA}}, &res); err != nil {
		t.Fatal(err)
	}
	op := apiClient{base: f.p.http, user: "operator-a", pass: res["password"], http: &http.Client{Timeout: 30 * time.Second}}
	var page manager.KioskList
	if err := viewer.do("GET", "/api/v1/kiosks?limit=1000", nil, &page); err != nil {
		t.Fatal(err)
	}
	if page.Total != opsSiteA || slices.ContainsFunc(page.Kiosks, func(k manager.Kiosk) bool { return k.Ref.Site != f.siteA }) {
		t.Errorf("the viewer of site A lists %d kiosks, want only A's %d", page.Total, opsSiteA)
	}
	inA, inB := f.names[0], f.names[opsSiteA]
	status := func(c apiClient, method, path string, body any) int {
		err := c.do(method, path, body, &map[string]any{})
		if err == nil {
			return 200
		}
		var code int
		fmt.Sscanf(err.Error()[strings.Index(err.Error(), ": ")+2:], "%d", &code)
		return code
	}
	for _, tt := range []struct {
		who    string
		c      apiClient
		method string
		path   string
		body   any
		want   int
	}{
		{"viewer", viewer, "GET", "/api/v1/kiosks/" + inB, nil, 404},
		{"viewer", viewer, "GET", "/api/v1/kiosks/" + inA, nil, 200},
		{"viewer", viewer, "POST", "/api/v1/kiosks/" + inA + "/commands", map[string]string{"name": "self_test"}, 403},
		{"viewer", viewer, "POST", "/api/v1/kiosks/" + inB + "/commands", map[string]string{"name": "self_test"}, 403},
		{"viewer", viewer, "POST", "/api/v1/jobs", manager.JobRequest{Action: "self_test", Kiosks: []string{inB}}, 403},
		{"operator", op, "POST", "/api/v1/kiosks/" + inB + "/commands", map[string]string{"name": "self_test"}, 403},
		{"operator", op, "POST", "/api/v1/jobs", manager.JobRequest{Action: "self_test", Kiosks: []string{inA, inB}}, 403},
		{"operator", op, "POST", "/api/v1/tags", map[string]any{"kiosks": []string{inB}, "add": []string{"x"}}, 403},
		{"operator", op, "POST", "/api/v1/alerts/ack", map[string]string{"kiosk": inB, "kind": "config_drift"}, 403},
		{"operator", op, "PUT", "/api/v1/config/kiosk:" + inB, map[string]any{"config": map[string]string{"language": "en"}}, 403},
		{"operator", op, "PUT", "/api/v1/config/fleet", map[string]any{"config": map[string]string{"language": "en"}}, 403},
		{"operator", op, "POST", "/api/v1/users", map[string]any{"name": "x", "role": "admin"}, 403},
		{"operator", op, "POST", "/api/v1/kiosks/" + inA + "/commands", map[string]string{"name": "self_test"}, 200},
	} {
		if got := status(tt.c, tt.method, tt.path, tt.body); got != tt.want && !(tt.want == 200 && got == 0) {
			t.Errorf("%s %s %s = %d, want %d", tt.who, tt.method, tt.path, got, tt.want)
		}
	}
	// A group is acted on within the operator's sites.
	var j manager.Job
	if err := op.do("POST", "/api/v1/jobs", manager.JobRequest{Action: "self_test", Tags: []string{"region:north"}}, &j); err != nil {
		t.Fatal(err)
	}
	if j.Total != opsSiteA || slices.ContainsFunc(j.Targets, func(tg manager.JobTarget) bool { return !strings.HasPrefix(tg.Kiosk, f.siteA+"/") }) {
		t.Errorf("the operator of site A's job on region:north has %d kiosks, want A's %d", j.Total, opsSiteA)
	}
	// The console: B's kiosk page does not exist for the viewer.
	if code := consoleGet(t, f.p.http, "viewer-a", viewer.pass, "/kiosks/"+inB); code != http.StatusNotFound {
		t.Errorf("the viewer's console shows %s: %d", inB, code)
	}
	// Disabled, the viewer is refused at once.
	if err := f.admin.do("POST", "/api/v1/users/viewer-a", map[string]any{"disabled": true}, &map[string]any{}); err != nil {
		t.Fatal(err)
	}
	if code := status(viewer, "GET", "/api/v1/summary", nil); code != 401 {
		t.Errorf("a disabled viewer: %d, want 401", code)
	}
}

// consoleGet logs in to the console as user and fetches path.
func consoleGet(t *testing.T, base, user, pass, path string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(base+"/login", url.Values{"user": {user}, "password": {pass}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// webhookReceiver is a local webhook endpoint that checks each request's
// signature.
type webhookReceiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	sigs   [][2]string
}

func newWebhookReceiver(t *testing.T) *webhookReceiver {
	w := &webhookReceiver{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.bodies = append(w.bodies, b)
		w.sigs = append(w.sigs, [2]string{r.Header.Get(manager.HeaderTimestamp), r.Header.Get(manager.HeaderSignature)})
		w.mu.Unlock()
		rw.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *webhookReceiver) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.bodies)
}

// wait waits for the n-th (from 1) webhook, checks its signature with
// secret, and decodes it.
func (w *webhookReceiver) wait(t *testing.T, secret string, n int) manager.WebhookPayload {
	t.Helper()
	waitUntil(t, fmt.Sprintf("webhook #%d", n), 20*time.Second, func() bool { return w.count() >= n })
	w.mu.Lock()
	b, sig := w.bodies[n-1], w.sigs[n-1]
	w.mu.Unlock()
	if err := manager.VerifyWebhook(secret, sig[0], sig[1], b, time.Now(), time.Minute); err != nil {
		t.Errorf("webhook #%d: %v", n, err)
	}
	if err := manager.VerifyWebhook("not-the-secret", sig[0], sig[1], b, time.Now(), time.Minute); err == nil {
		t.Errorf("webhook #%d verifies with another secret", n)
	}
	var p manager.WebhookPayload
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("webhook #%d: %v", n, err)
	}
	return p
}
