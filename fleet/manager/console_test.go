package manager_test

import (
	"bytes"
	"encoding/base32"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet/fleettest"
	"github.com/nhikiosk/nhikiosk/fleet/manager"
)

// lockedLog collects fleetd's log lines.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// session is a logged-in browser: its cookie and CSRF token.
type session struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func (f *fleetUnderTest) login(user, pass string) *session {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	s := &session{t: f.t, base: f.web.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	resp, err := s.c.PostForm(f.web.URL+"/login", url.Values{"user": {user}, "password": {pass}, "next": {"/"}})
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	s.csrf = csrfOf(string(b))
	return s
}

func csrfOf(page string) string {
	if m := csrfRE.FindStringSubmatch(page); m != nil {
		return m[1]
	}
	return ""
}

func (s *session) get(path string) (int, string) {
	s.t.Helper()
	resp, err := s.c.Get(s.base + path)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if c := csrfOf(string(b)); c != "" {
		s.csrf = c
	}
	return resp.StatusCode, string(b)
}

// post submits a form (with the session's CSRF token) and returns the
// page it leads to.
func (s *session) post(path string, form url.Values) (int, string) {
	s.t.Helper()
	form.Set("csrf", s.csrf)
	resp, err := s.c.PostForm(s.base+path, form)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsolePages renders every page of the console, in both languages,
// for an admin, an operator and a viewer: each answers, and no template
// fails half-way (a failure is logged as "fleetd render").
func TestConsolePages(t *testing.T) {
	log := &lockedLog{}
	f := startFleetOpts(t, manager.Options{Logger: slog.New(slog.NewTextHandler(log, nil))})
	admin := manager.User{Name: "test-admin", Role: manager.RoleAdmin}
	a, b := f.ref("k1"), f.ref("k2")
	f.kiosk(a, &fleettest.Handler{})
	f.kiosk(b, &fleettest.Handler{})
	f.waitStatus(a, manager.StatusOnline)
	if _, err := f.m.SetTags(admin, []string{a, b}, []string{"region:north"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := f.m.SetConfigLayer(admin, "group:region:north", 5, []byte(`{"language":"en"}`)); err != nil {
		t.Fatal(err)
	}
	j, err := f.m.CreateJob(admin, manager.JobRequest{Action: "self_test", Tags: []string{"region:north"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.SetRule(admin, manager.Rule{Name: "all", Email: []string{"ops@fleet.test"}, OnNew: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetUser("boss", manager.RoleAdmin, "test-boss-password"); err != nil {
		t.Fatal(err)
	}
	pages := []string{"/", "/?tag=region:north", "/groups", "/groups/region:north", "/jobs", "/jobs/" + j.ID, "/config",
		"/config?edit=group:region:north", "/sites", "/users", "/account", "/notify", "/alerts", "/audit", "/kiosks/" + a,
		"/?frag=summary", "/?frag=rows&k=" + a, "/groups/region:north?frag=rows&k=" + a, "/jobs/" + j.ID + "?frag=1"}
	for _, who := range []struct{ user, pass string }{{"boss", "test-boss-password"}, {"op", "test-operator-pw"}, {"viewer", "test-viewer-pw"}} {
		s := f.login(who.user, who.pass)
		for _, lang := range []string{"zh-TW", "en"} {
			s.post("/account", url.Values{"do": {"lang"}, "lang": {lang}})
			for _, p := range pages {
				code, body := s.get(p)
				adminOnly := p == "/users" || p == "/notify"
				switch {
				case adminOnly && who.user != "boss":
					if code != http.StatusForbidden {
						t.Errorf("%s %s: %d, want 403", who.user, p, code)
					}
				case code != http.StatusOK:
					t.Errorf("%s (%s) %s: %d", who.user, lang, p, code)
				case lang == "zh-TW" && !strings.HasPrefix(p, "/?frag") && !strings.Contains(p, "frag=rows") && !strings.Contains(body, "服務機"):
					t.Errorf("%s (%s) %s: no Chinese on the page", who.user, lang, p)
				}
			}
		}
	}
	if strings.Contains(log.String(), "fleetd render") {
		t.Errorf("templates failed:\n%s", grepLines(log.String(), "fleetd render"))
	}
}

func grepLines(s, word string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestUsersInTheConsole: an admin adds a user while fleetd runs, changes
// their role and sites, disables and resets them; the last admin cannot
// be disabled; each change is in the audit log; a disabled user's
// session ends at once.
func TestUsersInTheConsole(t *testing.T) {
	f := startFleet(t)
	if err := f.store.SetUser("boss", manager.RoleAdmin, "test-boss-password"); err != nil {
		t.Fatal(err)
	}
	boss := f.login("boss", "test-boss-password")
	code, page := boss.post("/users", url.Values{"name": {"林小華"}, "role": {"viewer"}, "sites": {"taipei-branch"}})
	m := regexp.MustCompile(`<code id="newpw">([^<]+)</code>`).FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("add user: %d, no password shown", code)
	}
	hua := f.login("林小華", m[1])
	if code, _ := hua.get("/"); code != http.StatusOK {
		t.Fatalf("the new user cannot log in: %d", code)
	}
	if code, _ := hua.get("/users"); code != http.StatusForbidden {
		t.Errorf("a viewer opens /users: %d", code)
	}
	boss.post("/users/林小華", url.Values{"do": {"update"}, "role": {"operator"}, "sites": {"taipei-branch ntuh-lobby"}})
	u, _, _ := f.m.User("林小華")
	if u.Role != manager.RoleOperator || strings.Join(u.Sites, ",") != "ntuh-lobby,taipei-branch" {
		t.Errorf("after the update: %s %v", u.Role, u.Sites)
	}
	if _, page := hua.get("/account"); !strings.Contains(page, "operator") && !strings.Contains(page, "操作員") {
		t.Error("the user's session did not take their new role")
	}
	boss.post("/users/林小華", url.Values{"do": {"disable"}})
	if _, page := hua.get("/"); !strings.Contains(page, `name="password"`) {
		t.Error("a disabled user's session goes on")
	}
	if _, err := f.m.SetDisabled(manager.User{Name: "boss", Role: manager.RoleAdmin}, "boss", true); err == nil {
		t.Error("the last admin was disabled")
	}
	code, page = boss.post("/users/林小華", url.Values{"do": {"reset"}})
	if m := regexp.MustCompile(`<code id="newpw">([^<]+)</code>`).FindStringSubmatch(page); code != http.StatusOK || m == nil {
		t.Errorf("reset: %d, no new password", code)
	}
	audit, _ := f.m.Audit(20)
	var actions []string
	for _, a := range audit {
		if a.User == "boss" {
			actions = append(actions, a.Action)
		}
	}
	for _, want := range []string{"user_add", "user_update", "user_disable", "user_reset"} {
		if !strings.Contains(strings.Join(actions, " "), want) {
			t.Errorf("audit lacks %s by boss: %v", want, actions)
		}
	}
}

// TestTOTPLogin: a user turns on a second factor; then a password alone
// does not log in, a code does (once), wrong codes run out their budget,
// and HTTP Basic is refused for the account (scripts use tokens).
func TestTOTPLogin(t *testing.T) {
	f := startFleet(t)
	op := f.login("op", "test-operator-pw")
	_, page := op.post("/account", url.Values{"do": {"totp_begin"}})
	m := regexp.MustCompile(`<p><code>([A-Z2-7]+)</code></p>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no second-factor key shown")
	}
	secret, err := base32NoPad(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, "data:image/png;base64,") {
		t.Error("no QR code")
	}
	op.post("/account", url.Values{"do": {"totp_confirm"}, "code": {manager.TOTPCodeForTest(secret, time.Now())}})
	if u, _, _ := f.m.User("op"); len(u.TOTP) == 0 {
		t.Fatal("second factor not on")
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	resp, err := c.PostForm(f.web.URL+"/login", url.Values{"user": {"op"}, "password": {"test-operator-pw"}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pending := regexp.MustCompile(`name="pending" value="([^"]+)"`).FindStringSubmatch(string(b))
	u, _ := url.Parse(f.web.URL)
	if pending == nil || len(jar.Cookies(u)) != 0 {
		t.Fatalf("a password alone logged in, or no code asked for")
	}
	// The code of this step was spent confirming: the next one works.
	next := manager.TOTPCodeForTest(secret, time.Now().Add(30*time.Second))
	resp, err = c.PostForm(f.web.URL+"/login/totp", url.Values{"pending": {pending[1]}, "code": {next}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(jar.Cookies(u)) == 0 {
		t.Fatal("a right code did not log in")
	}
	req, _ := http.NewRequest("GET", f.web.URL+"/api/v1/summary", nil)
	req.SetBasicAuth("op", "test-operator-pw")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("HTTP Basic for an account with a second factor: %v %v, want 401", resp.StatusCode, err)
	}
	for i := 0; i <= manager.TOTPFailuresPerUser; i++ {
		resp, _ := c.PostForm(f.web.URL+"/login", url.Values{"user": {"op"}, "password": {"test-operator-pw"}})
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		p := regexp.MustCompile(`name="pending" value="([^"]+)"`).FindStringSubmatch(string(b))
		if p == nil {
			t.Fatal("no code asked for")
		}
		resp, _ = c.PostForm(f.web.URL+"/login/totp", url.Values{"pending": {p[1]}, "code": {"000000"}})
		resp.Body.Close()
		if i == manager.TOTPFailuresPerUser && resp.StatusCode != http.StatusTooManyRequests {
			t.Errorf("code attempt %d: %d, want 429 once the budget is spent", i+1, resp.StatusCode)
		}
	}
}

// TestAPITokens: a token acts with at most its owner's role and sites,
// narrowed to its own, and stops when revoked or when its owner is
// disabled.
func TestAPITokens(t *testing.T) {
	f := startFleet(t)
	a, b := f.ref("k1"), "other-site/k1"
	f.kiosk(a, &fleettest.Handler{})
	f.kiosk(b, &fleettest.Handler{})
	f.waitStatus(a, manager.StatusOnline)
	op := manager.User{Name: "op", Role: manager.RoleOperator}
	do := func(tok, method, path, body string) int {
		req, _ := http.NewRequest(method, f.web.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	cmd := `{"name":"self_test"}`
	full, _, err := f.m.CreateToken(op, "deploy script", "", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	read, _, _ := f.m.CreateToken(op, "dashboard", manager.RoleViewer, nil, time.Hour)
	siteOnly, _, _ := f.m.CreateToken(op, "one site", "", []string{f.site}, time.Hour)
	if _, _, err := f.m.CreateToken(op, "too much", manager.RoleAdmin, nil, time.Hour); err == nil {
		t.Error("an operator made an admin token")
	}
	for _, tt := range []struct {
		name, tok, method, path, body string
		want                          int
	}{
		{"operator token commands", full, "POST", "/api/v1/kiosks/" + a + "/commands", cmd, 202},
		{"viewer token reads", read, "GET", "/api/v1/summary", "", 200},
		{"viewer token cannot command", read, "POST", "/api/v1/kiosks/" + a + "/commands", cmd, 403},
		{"site token, its site", siteOnly, "POST", "/api/v1/kiosks/" + a + "/commands", cmd, 202},
		{"site token, another site", siteOnly, "POST", "/api/v1/kiosks/" + b + "/commands", cmd, 403},
		{"site token cannot see another site", siteOnly, "GET", "/api/v1/kiosks/" + b, "", 404},
		{"a token cannot make tokens", full, "POST", "/api/v1/tokens", `{"name":"x"}`, 403},
		{"a forged token", "fkt_0123456789abcdef_forged", "GET", "/api/v1/summary", "", 401},
	} {
		if got := do(tt.tok, tt.method, tt.path, tt.body); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	req, _ := http.NewRequest("POST", f.web.URL+"/api/v1/kiosks/"+a+"/commands", strings.NewReader(cmd))
	req.Header.Set("Authorization", "Bearer "+full)
	req.Header.Set("Content-Type", "text/plain")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("a token's text/plain post: %v %v, want 415 (only a browser form could send it)", resp.StatusCode, err)
	}
	toks, _ := f.m.Tokens(op)
	for _, tk := range toks {
		if tk.Name == "deploy script" {
			if err := f.m.RevokeToken(op, tk.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := do(full, "GET", "/api/v1/summary", ""); got != 401 {
		t.Errorf("a revoked token: %d, want 401", got)
	}
	boss := manager.User{Name: "test-admin", Role: manager.RoleAdmin}
	f.store.SetUser("test-admin", manager.RoleAdmin, "test-admin-password")
	if _, err := f.m.SetDisabled(boss, "op", true); err != nil {
		t.Fatal(err)
	}
	if got := do(read, "GET", "/api/v1/summary", ""); got != 401 {
		t.Errorf("the token of a disabled user: %d, want 401", got)
	}
}

func base32NoPad(s string) ([]byte, error) {
	return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
}

// TestLiveUpdatesWithinSites: a user restricted to one site follows the
// overview live, and is never told the names of other sites' kiosks, nor
// may follow one of them.
func TestLiveUpdatesWithinSites(t *testing.T) {
	f := startFleet(t)
	mine, other := f.ref("k1"), "other-site/k1"
	f.kiosk(mine, &fleettest.Handler{})
	f.kiosk(other, &fleettest.Handler{})
	f.waitStatus(mine, manager.StatusOnline)
	f.waitStatus(other, manager.StatusOnline)
	pw, err := f.m.AddUser(testAdmin, "site-viewer", manager.RoleViewer, []string{f.site})
	if err != nil {
		t.Fatal(err)
	}
	s := f.login("site-viewer", pw)
	evs := sseEvents(t, s.c, f.web.URL, manager.WatchFleet)
	f.proxies[other].Cut()
	f.proxies[mine].Cut()
	f.waitStatus(other, manager.StatusOffline)
	f.waitStatus(mine, manager.StatusOffline)
	got := strings.Join(drain(evs, 2500*time.Millisecond), "\n")
	if strings.Contains(got, "other-site") || !strings.Contains(got, mine) {
		t.Errorf("updates to the viewer of %s:\n%s", f.site, got)
	}
	resp, err := s.c.Get(f.web.URL + "/events?watch=" + url.QueryEscape(other))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("following %s: %d, want 403", other, resp.StatusCode)
	}
}
