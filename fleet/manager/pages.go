package manager

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/fleet"
)

// render executes page name (or one of its fragments, ?frag=) with data;
// every page gets the user, its CSRF token and the brokers' state.
func (w *Web) render(rw http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	switch f := r.URL.Query().Get("frag"); f {
	case "":
	case "1":
		name += "-main"
	default:
		name += "-" + f
	}
	if data["Title"] == nil {
		data["Title"] = strings.ToUpper(name[:1]) + name[1:]
	}
	u, _ := data["User"].(User)
	data["CSRF"] = u.CSRF
	if data["Nav"] == nil {
		data["Nav"] = ""
	}
	back := r.URL.Query()
	back.Del("frag")
	back.Del("ok")
	back.Del("err")
	data["Back"] = r.URL.Path
	if len(back) > 0 {
		data["Back"] = r.URL.Path + "?" + back.Encode()
	}
	data["Fleet"] = w.m.SummaryFor(u)
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	if err := w.tmpls[u.Language()].ExecuteTemplate(rw, name, data); err != nil {
		w.m.log.Error("fleetd render", "page", name, "err", err)
	}
}

func filterFrom(q url.Values) Filter {
	return Filter{Site: q.Get("site"), Status: Status(q.Get("status")), Version: q.Get("version"),
		Alert: AlertKind(q.Get("alert")), Query: q.Get("q"), Enrollment: q.Get("enrollment"),
		Tags: q["tag"], Config: q.Get("config")}
}

// PageRows is how many kiosks a page of the overview lists.
const PageRows = 500

func (w *Web) overview(rw http.ResponseWriter, r *http.Request, u User) {
	q := r.URL.Query()
	f := filterFrom(q)
	f.Sites = u.Sites
	data := map[string]any{"Title": "Fleet", "User": u, "Nav": "fleet", "Filter": f, "Statuses": Statuses,
		"AlertKinds": AlertKinds, "Watch": WatchFleet, "ConfigStates": ConfigStates, "JobActions": JobActions,
		"Languages": fleet.Languages, "Groups": w.m.Groups(u)}
	if q.Get("frag") == "rows" {
		// Only the rows the page asked for: an update carries what changed.
		var rows []Kiosk
		for _, n := range q["k"][:min(len(q["k"]), maxNames)] {
			if k, ok := w.m.Kiosk(n); ok && u.MaySee(k.Ref.Site) {
				rows = append(rows, k)
			}
		}
		data["Kiosks"] = rows
		w.render(rw, r, "overview", data)
		return
	}
	data["SiteRows"], data["MoreSites"] = siteRows(w.m.SummaryFor(u), OverviewSites)
	list, next, total := w.m.KioskPage(f, q.Get("after"), PageRows)
	sites, versions := w.m.sitesAndVersions()
	sites = slices.DeleteFunc(sites, func(s string) bool { return !u.MaySee(s) })
	data["Kiosks"], data["Next"], data["Total"], data["Sites"], data["Versions"] = list, next, total, sites, versions
	if next != "" {
		nq := url.Values{}
		for k, v := range q {
			if k != "frag" {
				nq[k] = v
			}
		}
		nq.Set("after", next)
		data["NextURL"] = "/?" + nq.Encode()
	}
	w.render(rw, r, "overview", data)
}

func (w *Web) kioskPage(rw http.ResponseWriter, r *http.Request, u User) {
	name := r.PathValue("site") + "/" + r.PathValue("kiosk")
	k, ok := w.m.Kiosk(name)
	if !ok || !u.MaySee(k.Ref.Site) {
		http.NotFound(rw, r)
		return
	}
	now := w.m.opts.Now()
	since := now.Add(-24 * time.Hour)
	hist, _ := w.m.HealthHistory(name, since)
	evs, _ := w.m.Events(name, since, 100)
	cmds, _ := w.m.Commands(name, 30)
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	w.render(rw, r, "kiosk", map[string]any{"Title": name, "User": u, "Nav": "fleet", "K": k, "Events": evs, "Commands": cmds,
		"Charts": charts(hist, since, now), "CommandNames": fleet.Commands, "Languages": fleet.Languages,
		"Watch": name, "Sent": r.URL.Query().Get("sent"), "Error": r.URL.Query().Get("err"),
		"Window": w.m.lv.window(&k), "Central": w.kioskCentral(name), "ConfigErr": r.URL.Query().Get("cfgerr"),
		"Draft": r.URL.Query().Get("draft")})
}

func (w *Web) sendForm(rw http.ResponseWriter, r *http.Request, u User) {
	name := r.PathValue("site") + "/" + r.PathValue("kiosk")
	back := "/kiosks/" + name
	rec, err := w.m.Send(u, name, fleet.CommandName(r.PostFormValue("name")), r.PostFormValue("language"))
	if err != nil {
		http.Redirect(rw, r, back+"?err="+url.QueryEscape(err.Error()), http.StatusSeeOther)
		return
	}
	http.Redirect(rw, r, back+"?sent="+url.QueryEscape(string(rec.ID)), http.StatusSeeOther)
}

func (w *Web) revokeForm(rw http.ResponseWriter, r *http.Request, u User) {
	name := r.PathValue("site") + "/" + r.PathValue("kiosk")
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	back := "/kiosks/" + name
	if err := w.m.Revoke(ctx, u, name); err != nil {
		http.Redirect(rw, r, back+"?err="+url.QueryEscape(err.Error()), http.StatusSeeOther)
		return
	}
	http.Redirect(rw, r, back, http.StatusSeeOther)
}

func (w *Web) alertsPage(rw http.ResponseWriter, r *http.Request, u User) {
	as, total := w.m.AlertsFor(u, PageRows)
	w.render(rw, r, "alerts", map[string]any{"User": u, "Nav": "alerts", "Alerts": as, "More": total - len(as), "Watch": WatchAlerts})
}

func (w *Web) ackForm(rw http.ResponseWriter, r *http.Request, u User) {
	if err := w.m.AckAlert(u, r.PostFormValue("kiosk"), AlertKind(r.PostFormValue("kind"))); err != nil {
		http.Error(rw, err.Error(), statusFor(err))
		return
	}
	http.Redirect(rw, r, "/alerts", http.StatusSeeOther)
}

func (w *Web) auditPage(rw http.ResponseWriter, r *http.Request, u User) {
	a, _ := w.m.AuditFor(u, PageRows)
	w.render(rw, r, "audit", map[string]any{"User": u, "Nav": "audit", "Audit": a,
		"OperatorKey": w.m.opts.Signer.PublicLine()})
}

// sse streams "change" events (an update: which kiosks changed in what
// the page shows, whether counts, alerts or brokers changed), at most one
// a second, so a page re-renders only what changed. ?watch= is "*" (the
// overview), "alerts", or a kiosk's name.
func (w *Web) sse(rw http.ResponseWriter, r *http.Request, u User) {
	fl, ok := rw.(http.Flusher)
	if !ok {
		http.Error(rw, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	watch := r.URL.Query().Get("watch")
	if watch == "" {
		watch = WatchFleet
	}
	if !w.mayWatch(u, watch) {
		http.Error(rw, ErrNotYourSite.Error(), http.StatusForbidden)
		return
	}
	rw.Header().Set("Content-Type", "text/event-stream")
	rw.Header().Set("Cache-Control", "no-store")
	s := w.m.hub.subscribe(watch)
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
			up := s.take()
			if !u.AllSites() { // not even the names of other sites' kiosks
				up.Kiosks = slices.DeleteFunc(up.Kiosks, func(n string) bool {
					site, _, _ := strings.Cut(n, "/")
					return !u.MaySee(site)
				})
			}
			b, _ := json.Marshal(up)
			fmt.Fprintf(rw, "event: change\ndata: %s\n\n", b)
		}
		fl.Flush()
		select { // at most one update a second
		case <-r.Context().Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// sitesAndVersions lists the fleet's sites and versions, for the filters.
func (m *Manager) sitesAndVersions() ([]string, []string) {
	sites, versions := map[string]bool{}, map[string]bool{}
	m.mu.RLock()
	for _, k := range m.kiosks {
		sites[k.Ref.Site] = true
		if v := k.Version(); v != "" {
			versions[v] = true
		}
	}
	m.mu.RUnlock()
	return sortedKeys(sites), sortedKeys(versions)
}
