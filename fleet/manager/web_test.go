package manager_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
)

// The web findings of issue 14 (5, 7's cookie, 8, 9): the broker does not
// matter here, so they run on the embedded one.

func noRedirect(c *http.Client) *http.Client {
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// TestLoginNextStaysLocal: finding 5 — /login?next=%2F%5Chost sent the
// browser to another host after a correct login.
func TestLoginNextStaysLocal(t *testing.T) {
	f := startFleet(t)
	c := noRedirect(&http.Client{Timeout: 30 * time.Second})
	for _, tt := range []struct{ next, want string }{
		{"/\\evil.example", "/"},
		{"//evil.example/x", "/"},
		{"/\\/evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.example", "/"},
		{"/kiosks/a/k1?sent=1", "/kiosks/a/k1?sent=1"},
		{"/alerts", "/alerts"},
	} {
		resp, err := c.PostForm(f.web.URL+"/login", url.Values{"user": {"op"}, "password": {"test-operator-pw"}, "next": {tt.next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); got != tt.want {
			t.Errorf("login with next=%q redirects to %q, want %q", tt.next, got, tt.want)
		}
		_, page := f.get("/login?next=" + url.QueryEscape(tt.next))
		if want := `name="next" value="` + template(tt.want) + `"`; !strings.Contains(page, want) {
			t.Errorf("login page for next=%q lacks %s", tt.next, want)
		}
	}
}

// template escapes s as html/template does in an attribute.
func template(s string) string { return strings.ReplaceAll(s, "&", "&amp;") }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestCrossSiteRefused: finding 8 — a cross-site text/plain POST with HTTP
// Basic credentials ran a command (202). Every state-changing request is
// checked, whatever the authentication.
func TestCrossSiteRefused(t *testing.T) {
	f := startFleet(t)
	k := f.ref("k1")
	f.kiosk(k, &fleettest.Handler{})
	f.waitStatus(k, manager.StatusOnline)
	post := func(c *http.Client, path, ctype, body string, hdr map[string]string, basic bool) int {
		t.Helper()
		req, _ := http.NewRequest("POST", f.web.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if basic {
			req.SetBasicAuth("op", "test-operator-pw")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cmd := "/api/v1/kiosks/" + k + "/commands"
	crossSite := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	plain := &http.Client{Timeout: 30 * time.Second}
	if code := post(plain, cmd, "text/plain", `{"name":"reboot"}`, crossSite, true); code != http.StatusForbidden {
		t.Errorf("cross-site text/plain POST with Basic credentials: %d, want 403", code)
	}
	if code := post(plain, cmd, "text/plain", `{"name":"reboot"}`, nil, true); code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain POST with Basic credentials and no origin: %d, want 415", code)
	}
	if code := post(plain, "/login", "application/x-www-form-urlencoded", "user=op&password=test-operator-pw", crossSite, false); code != http.StatusForbidden {
		t.Errorf("cross-site login: %d, want 403", code)
	}
	br := noRedirect(f.browser("op", "test-operator-pw"))
	resp, err := br.Get(f.web.URL + "/kiosks/" + k)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		t.Fatal("the kiosk page has no CSRF token")
	}
	form := "/kiosks/" + k + "/commands"
	for _, tt := range []struct {
		name string
		body string
		hdr  map[string]string
		want int
	}{
		{"form without a token", "name=self_test", nil, http.StatusForbidden},
		{"form with a wrong token", "name=self_test&csrf=forged", nil, http.StatusForbidden},
		{"cross-site form with the token", "name=self_test&csrf=" + string(m[1]), crossSite, http.StatusForbidden},
		{"same-site form with the token", "name=self_test&csrf=" + string(m[1]), map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
	} {
		if code := post(br, form, "application/x-www-form-urlencoded", tt.body, tt.hdr, false); code != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, code, tt.want)
		}
	}
	if code := post(plain, cmd, "application/json", `{"name":"self_test"}`, nil, true); code != http.StatusAccepted {
		t.Errorf("a script's JSON POST: %d, want 202", code)
	}
	audit, _ := f.m.Audit(100)
	n := 0
	for _, a := range audit {
		if a.Action == "command" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d commands audited, want 2 (the form with its token, the script)", n)
	}
}

// TestLoginAttemptsLimited: finding 9 — 30 wrong logins in 3 s were all
// checked, and logged without the client's address.
func TestLoginAttemptsLimited(t *testing.T) {
	var buf lockedBuffer
	f := startFleetOpts(t, manager.Options{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	c := noRedirect(&http.Client{Timeout: 30 * time.Second})
	codes := map[int]int{}
	for i := range 30 {
		resp, err := c.PostForm(f.web.URL+"/login", url.Values{"user": {"op"}, "password": {fmt.Sprint("guess-", i)}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	if codes[http.StatusTooManyRequests] != 30-manager.LoginFailuresPerAddr {
		t.Errorf("status codes of 30 wrong logins: %v, want %d refused unchecked (429)", codes, 30-manager.LoginFailuresPerAddr)
	}
	resp, err := c.PostForm(f.web.URL+"/login", url.Values{"user": {"op"}, "password": {"test-operator-pw"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the right password while the budget is spent: %d, want 429", resp.StatusCode)
	}
	if code, _ := f.api("GET", "/api/v1/summary", "op", "test-operator-pw", ""); code != http.StatusTooManyRequests {
		t.Errorf("Basic credentials from the same address: %d, want 429", code)
	}
	log := buf.String()
	if n := strings.Count(log, "fleetd login refused"); n < 30 || !strings.Contains(log, "remote=127.0.0.1") {
		t.Errorf("%d refusals logged, want every one with remote=127.0.0.1:\n%.1000s", n, log)
	}
	if _, m := f.get("/metrics"); !strings.Contains(m, "fleetd_logins_refused_total 32") {
		t.Errorf("metrics: %s", grep(m, "logins"))
	}
}

// sseEvents reads "change" events from /events?watch= into a channel.
func sseEvents(t *testing.T, c *http.Client, base, watch string) <-chan string {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events?watch="+url.QueryEscape(watch), nil)
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /events: %v %v", err, resp)
	}
	out := make(chan string, 100)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				out <- d
			}
		}
	}()
	return out
}

func drain(ch <-chan string, d time.Duration) []string {
	var got []string
	end := time.After(d)
	for {
		select {
		case s := <-ch:
			got = append(got, s)
		case <-end:
			return got
		}
	}
}

// TestUpdatesOnlyWhatChanged: finding 9 — every page redrew about once a
// second at 10,000 kiosks. Routine health wakes no list; a change sends
// only the kiosk that changed; a kiosk's own page hears it at most once
// a second.
func TestUpdatesOnlyWhatChanged(t *testing.T) {
	f := startFleet(t)
	var clients []func(h fleet.Health)
	var refs []fleet.KioskRef
	for i := range 20 {
		name := f.ref(fmt.Sprintf("k%02d", i))
		pw := f.enroll(name)
		ref, _ := fleet.ParseKioskRef(name)
		c, err := f.mqttClient(ref.Username(), pw, ref.ClientID())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Disconnect(100) })
		st, _ := json.Marshal(fleet.State{V: 1, State: fleet.Online, Birth: &fleet.Birth{Version: "v1", HealthIntervalS: 30}})
		c.Publish(fleet.Topic(ref, fleet.ChanState), 1, true, st).WaitTimeout(5 * time.Second)
		refs = append(refs, ref)
		clients = append(clients, func(h fleet.Health) {
			b, _ := json.Marshal(h)
			c.Publish(fleet.Topic(ref, fleet.ChanHealth), 0, true, b)
		})
	}
	health := func() {
		for range 30 { // 3 s of health at 10 Hz from every kiosk
			for _, send := range clients {
				h := fleettest.Health()
				h.V, h.TS = 1, time.Now().UTC()
				send(h)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	health()
	for _, r := range refs {
		f.waitStatus(r.String(), manager.StatusOnline)
	}
	br := f.browser("viewer", "test-viewer-pw")
	overview := sseEvents(t, br, f.web.URL, manager.WatchFleet)
	one := sseEvents(t, br, f.web.URL, refs[3].String())
	drain(overview, 1500*time.Millisecond) // anything from before
	drain(one, 1500*time.Millisecond)
	start := time.Now()
	health()
	if got := drain(overview, 500*time.Millisecond); len(got) != 0 {
		t.Errorf("the overview was told of %d updates during routine health, want none: %v", len(got), got)
	}
	got := drain(one, 500*time.Millisecond)
	if secs := time.Since(start).Seconds(); len(got) < 1 || float64(len(got)) > secs+1 {
		t.Errorf("a kiosk's page got %d updates in %.1f s of 10 Hz health, want 1 to one a second", len(got), secs)
	}
	m, _ := json.Marshal(fleet.State{V: 1, State: fleet.Maintenance})
	ref := refs[7]
	pw := f.passes[ref.String()]
	c, _ := f.mqttClient(ref.Username(), pw, ref.ClientID())
	defer c.Disconnect(100)
	c.Publish(fleet.Topic(ref, fleet.ChanState), 1, true, m).WaitTimeout(5 * time.Second)
	got = drain(overview, 2*time.Second)
	if len(got) != 1 {
		t.Fatalf("overview updates after one kiosk changed: %v, want exactly one", got)
	}
	var u struct {
		Kiosks  []string `json:"kiosks"`
		Summary bool     `json:"summary"`
	}
	json.Unmarshal([]byte(got[0]), &u)
	if len(u.Kiosks) != 1 || u.Kiosks[0] != ref.String() || !u.Summary {
		t.Errorf("update = %s, want only %s and the counts", got[0], ref)
	}
	resp, err := br.Get(f.web.URL + "/?frag=rows&k=" + url.QueryEscape(ref.String()))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if n := strings.Count(string(rows), "<tr "); n != 1 || !strings.Contains(string(rows), "maintenance") {
		t.Errorf("rows fragment = %d rows %q, want the one kiosk in maintenance", n, rows)
	}
}

// TestKioskListPaged: finding 9 — the kiosk list API returned 11.7 MB
// unpaginated at 10,000 kiosks.
func TestKioskListPaged(t *testing.T) {
	f := startFleet(t)
	var names []string
	for i := range 250 {
		names = append(names, f.ref(fmt.Sprintf("k%03d", i)))
	}
	if _, err := f.m.EnrollMany(t.Context(), testOperator, names); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	after, pages := "", 0
	for {
		code, body := f.api("GET", "/api/v1/kiosks?after="+url.QueryEscape(after), "viewer", "test-viewer-pw", "")
		var page manager.KioskList
		if err := json.Unmarshal([]byte(body), &page); err != nil || code != 200 {
			t.Fatalf("GET /api/v1/kiosks = %d, %v: %.200s", code, err, body)
		}
		if len(page.Kiosks) > manager.DefaultPage || page.Total != 250 {
			t.Fatalf("page of %d of %d, want at most %d of 250", len(page.Kiosks), page.Total, manager.DefaultPage)
		}
		for _, k := range page.Kiosks {
			if seen[k.Name] {
				t.Fatalf("%s on two pages", k.Name)
			}
			seen[k.Name] = true
		}
		pages++
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if len(seen) != 250 || pages != 3 {
		t.Errorf("%d kiosks on %d pages, want 250 on 3", len(seen), pages)
	}
	_, body := f.api("GET", "/api/v1/kiosks?limit=100000", "viewer", "test-viewer-pw", "")
	var page manager.KioskList
	json.Unmarshal([]byte(body), &page)
	if len(page.Kiosks) != 250 || page.Next != "" {
		t.Errorf("limit=100000: %d kiosks, next %q", len(page.Kiosks), page.Next)
	}
	if manager.MaxPage > 1000 {
		t.Errorf("MaxPage = %d, want at most 1000", manager.MaxPage)
	}
}
