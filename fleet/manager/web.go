package manager

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

//go:embed templates/*.html static/*
var webFS embed.FS

// Web serves the dashboard, the JSON API and /metrics.
type Web struct {
	m        *Manager
	store    *Store
	sessions sessions
	tmpl     *template.Template
	mux      *http.ServeMux
}

// NewWeb builds the HTTP handler for m.
func NewWeb(m *Manager) *Web {
	w := &Web{m: m, store: m.store, mux: http.NewServeMux()}
	w.tmpl = template.Must(template.New("").Funcs(funcs).ParseFS(webFS, "templates/*.html"))
	mux := w.mux
	mux.Handle("GET /static/", http.FileServerFS(webFS))
	mux.HandleFunc("GET /login", w.loginPage)
	mux.HandleFunc("POST /login", w.login)
	mux.HandleFunc("POST /logout", w.logout)
	mux.HandleFunc("GET /metrics", w.metrics)
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) { rw.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /{$}", w.auth(w.overview))
	mux.HandleFunc("GET /kiosks/{site}/{kiosk}", w.auth(w.kioskPage))
	mux.HandleFunc("POST /kiosks/{site}/{kiosk}/commands", w.auth(w.sendForm))
	mux.HandleFunc("GET /alerts", w.auth(w.alertsPage))
	mux.HandleFunc("POST /alerts/ack", w.auth(w.ackForm))
	mux.HandleFunc("GET /audit", w.auth(w.auditPage))
	mux.HandleFunc("GET /events", w.auth(w.sse))
	w.apiRoutes()
	return w
}

// ServeHTTP implements http.Handler.
func (w *Web) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	rw.Header().Set("X-Frame-Options", "DENY")
	rw.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'")
	w.mux.ServeHTTP(rw, r)
}

type userKey struct{}

type authed func(http.ResponseWriter, *http.Request, User)

const cookieName = "fleetd_session"

// auth requires a session cookie (browsers) or Basic credentials (API,
// CLI). A POST from a browser must come from this origin.
func (w *Web) auth(h authed) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		if name, pass, ok := r.BasicAuth(); ok {
			u, err := w.store.CheckLogin(name, pass)
			if err != nil {
				rw.Header().Set("WWW-Authenticate", `Basic realm="fleetd"`)
				http.Error(rw, err.Error(), http.StatusUnauthorized)
				return
			}
			h(rw, r, u)
			return
		}
		c, err := r.Cookie(cookieName)
		var u User
		ok := err == nil
		if ok {
			u, ok = w.sessions.get(c.Value)
		}
		if !ok {
			if strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/events" {
				http.Error(rw, "log in first", http.StatusUnauthorized)
				return
			}
			http.Redirect(rw, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost && !sameOrigin(r) {
			http.Error(rw, "cross-origin request refused", http.StatusForbidden)
			return
		}
		h(rw, r, u)
	}
}

func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		o = r.Header.Get("Referer")
	}
	if o == "" {
		return true // SameSite=Strict already keeps other sites' cookies out
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (w *Web) render(rw http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	if r.URL.Query().Get("frag") == "1" {
		name += "-main"
	}
	if data["Title"] == nil {
		data["Title"] = strings.ToUpper(name[:1]) + name[1:]
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := w.tmpl.ExecuteTemplate(rw, name, data); err != nil {
		w.m.log.Error("fleetd render", "page", name, "err", err)
	}
}

func (w *Web) loginPage(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, r, "login", map[string]any{"Next": r.URL.Query().Get("next"), "Error": r.URL.Query().Get("err")})
}

func (w *Web) login(rw http.ResponseWriter, r *http.Request) {
	u, err := w.store.CheckLogin(r.FormValue("user"), r.FormValue("password"))
	next := r.FormValue("next")
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		next = "/"
	}
	if err != nil {
		w.m.log.Warn("fleetd login refused", "user", r.FormValue("user"))
		http.Redirect(rw, r, "/login?err=1&next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	tok := w.sessions.create(u)
	http.SetCookie(rw, &http.Cookie{Name: cookieName, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: 12 * 3600})
	w.m.log.Info("fleetd login", "user", u.Name, "role", u.Role)
	http.Redirect(rw, r, next, http.StatusSeeOther)
}

func (w *Web) logout(rw http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(cookieName); err == nil {
		w.sessions.drop(c.Value)
	}
	http.SetCookie(rw, &http.Cookie{Name: cookieName, Path: "/", MaxAge: -1})
	http.Redirect(rw, r, "/login", http.StatusSeeOther)
}

func filterFrom(q url.Values) Filter {
	return Filter{Site: q.Get("site"), Status: Status(q.Get("status")), Version: q.Get("version"),
		Alert: AlertKind(q.Get("alert")), Query: q.Get("q")}
}

func (w *Web) overview(rw http.ResponseWriter, r *http.Request, u User) {
	f := filterFrom(r.URL.Query())
	all := w.m.Kiosks(Filter{})
	sites, versions := map[string]bool{}, map[string]bool{}
	for _, k := range all {
		sites[k.Ref.Site] = true
		if v := k.Version(); v != "" {
			versions[v] = true
		}
	}
	list := w.m.Kiosks(f)
	const maxRows = 500
	more := 0
	if len(list) > maxRows {
		more, list = len(list)-maxRows, list[:maxRows]
	}
	w.render(rw, r, "overview", map[string]any{"Title": "Fleet", "User": u, "Nav": "fleet", "Summary": w.m.Summary(), "Kiosks": list,
		"More": more, "Filter": f, "Sites": sortedKeys(sites), "Versions": sortedKeys(versions),
		"Statuses": Statuses, "AlertKinds": alertKinds, "Watch": "*"})
}

var alertKinds = []AlertKind{AlertOffline, AlertReaderMissing, AlertTouchMissing, AlertOutboxStuck, AlertDiskLow, AlertHot, AlertTamper}

func (w *Web) kioskPage(rw http.ResponseWriter, r *http.Request, u User) {
	name := r.PathValue("site") + "/" + r.PathValue("kiosk")
	k, ok := w.m.Kiosk(name)
	if !ok {
		http.NotFound(rw, r)
		return
	}
	since := w.m.opts.Now().Add(-24 * time.Hour)
	hist, _ := w.m.HealthHistory(name, since)
	evs, _ := w.m.Events(name, since, 100)
	cmds, _ := w.m.Commands(name, 30)
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	w.render(rw, r, "kiosk", map[string]any{"Title": name, "User": u, "Nav": "fleet", "K": k, "Events": evs, "Commands": cmds,
		"Charts": charts(hist, since, w.m.opts.Now()), "CommandNames": fleet.Commands, "Languages": fleet.Languages,
		"Watch": name, "Sent": r.URL.Query().Get("sent"), "Error": r.URL.Query().Get("err")})
}

func (w *Web) sendForm(rw http.ResponseWriter, r *http.Request, u User) {
	name := r.PathValue("site") + "/" + r.PathValue("kiosk")
	back := "/kiosks/" + name
	rec, err := w.m.Send(u, name, fleet.CommandName(r.FormValue("name")), r.FormValue("language"))
	if err != nil {
		http.Redirect(rw, r, back+"?err="+url.QueryEscape(err.Error()), http.StatusSeeOther)
		return
	}
	http.Redirect(rw, r, back+"?sent="+url.QueryEscape(string(rec.ID)), http.StatusSeeOther)
}

func (w *Web) alertsPage(rw http.ResponseWriter, r *http.Request, u User) {
	w.render(rw, r, "alerts", map[string]any{"User": u, "Nav": "alerts", "Alerts": w.m.Alerts(), "Watch": "*"})
}

func (w *Web) ackForm(rw http.ResponseWriter, r *http.Request, u User) {
	if err := w.m.AckAlert(u, r.FormValue("kiosk"), AlertKind(r.FormValue("kind"))); err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrNotOperator) {
			status = http.StatusForbidden
		}
		http.Error(rw, err.Error(), status)
		return
	}
	http.Redirect(rw, r, "/alerts", http.StatusSeeOther)
}

func (w *Web) auditPage(rw http.ResponseWriter, r *http.Request, u User) {
	a, _ := w.m.Audit(500)
	w.render(rw, r, "audit", map[string]any{"User": u, "Nav": "audit", "Audit": a,
		"OperatorKey": w.m.opts.Signer.PublicLine()})
}

// sse streams "change" events naming the kiosks that changed, at most
// once a second, so pages re-render their server-side fragment.
func (w *Web) sse(rw http.ResponseWriter, r *http.Request, _ User) {
	fl, ok := rw.(http.Flusher)
	if !ok {
		http.Error(rw, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/event-stream")
	rw.Header().Set("Cache-Control", "no-store")
	s := w.m.hub.subscribe()
	defer w.m.hub.unsubscribe(s)
	fmt.Fprint(rw, "retry: 2000\n\n")
	fl.Flush()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-ping.C:
			fmt.Fprint(rw, ": ping\n\n")
		case <-s.notify:
			names := s.take()
			if len(names) > 200 {
				names = []string{"*"}
			}
			b, _ := json.Marshal(names)
			fmt.Fprintf(rw, "event: change\ndata: %s\n\n", b)
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-time.After(time.Second):
		}
	}
}
