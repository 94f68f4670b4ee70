package manager

import (
	"embed"
	"errors"
	"html/template"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/internal/budget"
)

//go:embed templates/*.html static/*
var webFS embed.FS

// Web serves the dashboard, the JSON API and /metrics. Every route is
// declared in routes() with who may use it; state-changing requests are
// checked there once for their origin and CSRF token, whatever the
// authentication (issue 14).
type Web struct {
	m        *Manager
	store    *Store
	sessions sessions
	tmpl     *template.Template
	mux      *http.ServeMux
	cop      *http.CrossOriginProtection
	byAddr   *budget.Budget // failed logins per client address
	byUser   *budget.Budget // failed logins per user name
	// Issue 19: templates per console language, logins waiting for their
	// second factor, and failed second-factor codes per user.
	tmpls   map[string]*template.Template
	pending pendingLogins
	byTOTP  *budget.Budget
}

// access is who may use a route.
type access int

const (
	public   access = iota // anyone: login, static files, /healthz, /metrics
	viewer                 // any logged-in user
	operator               // an operator (or admin)
	admin                  // an admin (issue 19)
)

// handler serves one route for user u (the zero User on public routes).
type handler func(rw http.ResponseWriter, r *http.Request, u User)

// Login attempt limits (issue 14, finding 9).
const (
	LoginFailuresPerAddr = 10
	LoginFailuresPerUser = 30
	LoginWindow          = 15 * time.Minute
)

// NewWeb builds the HTTP handler for m.
func NewWeb(m *Manager) *Web {
	w := &Web{m: m, store: m.store, mux: http.NewServeMux(), cop: http.NewCrossOriginProtection(),
		byAddr: budget.New(LoginFailuresPerAddr, LoginWindow, 100000),
		byUser: budget.New(LoginFailuresPerUser, LoginWindow, 100000)}
	w.tmpls = map[string]*template.Template{}
	for _, lang := range ConsoleLanguages {
		w.tmpls[lang] = template.Must(template.New("").Funcs(funcs).Funcs(w.langFuncs(lang)).ParseFS(webFS, "templates/*.html"))
	}
	w.tmpl = w.tmpls[ConsoleLanguages[0]]
	w.byTOTP = budget.New(TOTPFailuresPerUser, LoginWindow, 100000)
	w.routes()
	return w
}

// routes declares every route: the one place to add one.
func (w *Web) routes() {
	w.mux.Handle("GET /static/", http.FileServerFS(webFS))
	w.route("GET /login", public, w.loginPage)
	w.route("POST /login", public, w.login)
	w.route("POST /logout", viewer, w.logout)
	w.route("GET /metrics", public, w.writeMetrics)
	w.route("GET /healthz", public, w.healthz)
	w.route("GET /{$}", viewer, w.overview)
	w.route("GET /kiosks/{site}/{kiosk}", viewer, w.kioskPage)
	w.route("POST /kiosks/{site}/{kiosk}/commands", operator, w.sendForm)
	w.route("POST /kiosks/{site}/{kiosk}/revoke", operator, w.revokeForm)
	w.route("GET /alerts", viewer, w.alertsPage)
	w.route("POST /alerts/ack", operator, w.ackForm)
	w.route("GET /audit", viewer, w.auditPage)
	w.route("GET /events", viewer, w.sse)
	w.apiRoutes()
	w.opsRoutes()
}

// ServeHTTP implements http.Handler.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	w.mux.ServeHTTP(rw, r)
}

const cookieName = "fleetd_session"

// route registers h for pattern behind the checks of its access.
func (w *Web) route(pattern string, a access, h handler) {
	w.mux.HandleFunc(pattern, func(rw http.ResponseWriter, r *http.Request) {
		unsafe := r.Method != http.MethodGet && r.Method != http.MethodHead
		if unsafe {
			r.Body = http.MaxBytesReader(rw, r.Body, 64<<10)
			// A browser says where a request comes from (Sec-Fetch-Site,
			// Origin): another site may not change anything here.
			if err := w.cop.Check(r); err != nil {
				w.deny(rw, r, http.StatusForbidden, "cross-origin request refused")
				return
			}
		}
		if a == public {
			h(rw, r, User{})
			return
		}
		u, basic, ok := w.authenticate(rw, r)
		if !ok {
			return
		}
		if unsafe && basic {
			// A script with a password sends JSON; a form or a text/plain
			// post from another site cannot.
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
				w.deny(rw, r, http.StatusUnsupportedMediaType, "send application/json")
				return
			}
		}
		if unsafe && !basic && !w.csrfOK(r, u) {
			w.deny(rw, r, http.StatusForbidden, "missing or wrong CSRF token: reload the page")
			return
		}
		if a == operator && !u.Operates() {
			w.deny(rw, r, http.StatusForbidden, ErrNotOperator.Error())
			return
		}
		if a == admin && !u.Administers() {
			w.deny(rw, r, http.StatusForbidden, ErrNotAdmin.Error())
			return
		}
		h(rw, r, u)
	})
}

// authenticate finds the user by HTTP Basic credentials (API, CLI) or the
// session cookie (browsers); otherwise it answers and reports false.
func (w *Web) authenticate(rw http.ResponseWriter, r *http.Request) (User, bool, bool) {
	if secret, ok := bearer(r); ok {
		u, err := w.checkToken(r, secret)
		if err != nil {
			w.deny(rw, r, statusForLogin(err), err.Error())
			return User{}, true, false
		}
		return u, true, true
	}
	if name, pass, ok := r.BasicAuth(); ok {
		u, err := w.checkLogin(r, name, pass)
		if err == nil && len(u.TOTP) > 0 {
			// A password alone is not enough for an account with a
			// second factor: scripts use API tokens.
			err = errTOTPNeedsToken
		}
		if err != nil {
			rw.Header().Set("WWW-Authenticate", `Basic realm="fleetd"`)
			w.deny(rw, r, statusForLogin(err), err.Error())
			return User{}, true, false
		}
		return u, true, true
	}
	if c, err := r.Cookie(cookieName); err == nil {
		if u, ok := w.sessions.get(c.Value); ok {
			return u, false, true
		}
	}
	if isAPI(r) || r.Method != http.MethodGet {
		w.deny(rw, r, http.StatusUnauthorized, "log in first")
		return User{}, false, false
	}
	http.Redirect(rw, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
	return User{}, false, false
}

func (w *Web) csrfOK(r *http.Request, u User) bool {
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		tok = r.PostFormValue("csrf")
	}
	return tok != "" && tok == u.CSRF
}

func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/events"
}

// deny answers an error as JSON for the API, as text otherwise.
func (w *Web) deny(rw http.ResponseWriter, r *http.Request, status int, msg string) {
	if isAPI(r) {
		writeJSON(rw, status, apiError{msg})
		return
	}
	http.Error(rw, msg, status)
}

// errTooManyLogins is returned while a login budget is spent.
var errTooManyLogins = errors.New("too many failed logins: wait and try again")

func statusForLogin(err error) int {
	if errors.Is(err, errTooManyLogins) {
		return http.StatusTooManyRequests
	}
	return http.StatusUnauthorized
}

// checkLogin checks a password within the attempt budgets of the client's
// address and the user name, and logs refusals with the address.
func (w *Web) checkLogin(r *http.Request, name, pass string) (User, error) {
	addr := clientAddr(r)
	okA, _ := w.byAddr.Allow(addr)
	okU, _ := w.byUser.Allow(name)
	if !okA || !okU {
		w.m.metrics.logins.Add(1)
		w.m.log.Warn("fleetd login refused", "user", name, "remote", addr, "why", "too many failures")
		return User{}, errTooManyLogins
	}
	u, err := w.store.CheckLogin(name, pass)
	if errors.Is(err, ErrDisabled) {
		w.m.metrics.logins.Add(1)
		w.m.log.Warn("fleetd login refused", "user", name, "remote", addr, "why", "disabled")
		return User{}, err
	}
	if err != nil {
		w.byAddr.Fail(addr)
		w.byUser.Fail(name)
		w.m.metrics.logins.Add(1)
		w.m.log.Warn("fleetd login refused", "user", name, "remote", addr, "why", "wrong user name or password")
		return User{}, err
	}
	w.byAddr.Succeed(addr)
	w.byUser.Succeed(name)
	return u, nil
}

func clientAddr(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// LocalPath returns next if it is a path on this server, else "/": a
// login never sends the browser to another host (issue 14, finding 5:
// "/\host" is "//host" to a browser).
func LocalPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\x00\r\n\t") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

func (w *Web) healthz(rw http.ResponseWriter, _ *http.Request, _ User) {
	rw.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !w.m.BrokersUp() {
		rw.WriteHeader(http.StatusServiceUnavailable)
		rw.Write([]byte("broker unreachable: the fleet's state is unknown\n"))
		return
	}
	rw.Write([]byte("ok\n"))
}

func (w *Web) loginPage(rw http.ResponseWriter, r *http.Request, _ User) {
	w.render(rw, r, "login", map[string]any{"Next": LocalPath(r.URL.Query().Get("next")), "Error": r.URL.Query().Get("err"),
		"User": User{Lang: r.URL.Query().Get("lang")}})
}

func (w *Web) login(rw http.ResponseWriter, r *http.Request, _ User) {
	next := LocalPath(r.PostFormValue("next"))
	u, err := w.checkLogin(r, r.PostFormValue("user"), r.PostFormValue("password"))
	if err != nil {
		if errors.Is(err, errTooManyLogins) {
			http.Error(rw, err.Error(), http.StatusTooManyRequests)
			return
		}
		http.Redirect(rw, r, "/login?err=1&next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	if len(u.TOTP) > 0 {
		// The password was right; the second factor comes next.
		w.render(rw, r, "totp", map[string]any{"Pending": w.pending.create(u.Name), "Next": next, "User": u})
		return
	}
	w.startSession(rw, r, u, next)
}

// startSession logs u in on this browser and sends it to next.
func (w *Web) startSession(rw http.ResponseWriter, r *http.Request, u User, next string) {
	tok := w.sessions.create(u)
	http.SetCookie(rw, &http.Cookie{Name: cookieName, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: 12 * 3600})
	w.m.log.Info("fleetd login", "user", u.Name, "role", u.Role, "remote", clientAddr(r))
	if err := w.store.Write(w.m.auditOp(w.m.opts.Now().UTC(), u.Name, "login", "", clientAddr(r))); err != nil {
		w.m.log.Error("fleetd audit login", "err", err)
	}
	http.Redirect(rw, r, next, http.StatusSeeOther)
}

func (w *Web) logout(rw http.ResponseWriter, r *http.Request, _ User) {
	if c, err := r.Cookie(cookieName); err == nil {
		w.sessions.drop(c.Value)
	}
	http.SetCookie(rw, &http.Cookie{Name: cookieName, Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil})
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}
