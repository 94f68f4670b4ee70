package manager

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"rsc.io/qr"

	"github.com/nhikiosk/nhikiosk/config"
	"github.com/nhikiosk/nhikiosk/fleet"
)

// The console's pages for issue 19: groups, jobs, configuration, site
// names, users, the user's own account, and notification rules.

func (w *Web) opsRoutes() {
	w.route("POST /login/totp", public, w.loginTOTP)
	w.route("GET /groups", viewer, w.groupsPage)
	w.route("GET /groups/{tag}", viewer, w.groupPage)
	w.route("POST /tags", operator, w.tagForm)
	w.route("GET /jobs", viewer, w.jobsPage)
	w.route("POST /jobs", operator, w.jobForm)
	w.route("GET /jobs/{id}", viewer, w.jobPage)
	w.route("POST /jobs/{id}/cancel", operator, w.cancelJobForm)
	w.route("GET /config", viewer, w.configPage)
	w.route("POST /config/layer", operator, w.layerForm)
	w.route("GET /sites", viewer, w.sitesPage)
	w.route("POST /sites", operator, w.siteForm)
	w.route("GET /users", admin, w.usersPage)
	w.route("POST /users", admin, w.addUserForm)
	w.route("POST /users/{name}", admin, w.userForm)
	w.route("GET /account", viewer, w.accountPage)
	w.route("POST /account", viewer, w.accountForm)
	w.route("GET /notify", admin, w.notifyPage)
	w.route("POST /notify", admin, w.ruleForm)
	w.opsAPIRoutes()
}

// back redirects to path with a message (ok=) or an error (err=).
func back(rw http.ResponseWriter, r *http.Request, path string, err error, ok string) {
	q := url.Values{}
	if err != nil {
		q.Set("err", err.Error())
	} else if ok != "" {
		q.Set("ok", ok)
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	if len(q) == 0 {
		sep = ""
	}
	http.Redirect(rw, r, path+sep+q.Encode(), http.StatusSeeOther)
}

// localBack is the form's "back" field if it is a local path, else def.
func localBack(r *http.Request, def string) string {
	if b := r.PostFormValue("back"); b != "" {
		if p := LocalPath(b); p != "/" || b == "/" {
			return p
		}
	}
	return def
}

func fields(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

func (w *Web) page(rw http.ResponseWriter, r *http.Request, name string, u User, data map[string]any) {
	data["User"] = u
	q := r.URL.Query()
	if data["Error"] == nil {
		data["Error"] = q.Get("err")
	}
	data["OK"] = q.Get("ok")
	w.render(rw, r, name, data)
}

func (w *Web) groupsPage(rw http.ResponseWriter, r *http.Request, u User) {
	w.page(rw, r, "groups", u, map[string]any{"Title": "Groups", "Nav": "groups", "Groups": w.m.Groups(u),
		"Statuses": Statuses})
}

func (w *Web) groupPage(rw http.ResponseWriter, r *http.Request, u User) {
	tag := r.PathValue("tag")
	if !ValidTag(tag) {
		http.NotFound(rw, r)
		return
	}
	q := r.URL.Query()
	f := filterFrom(q)
	f.Tags, f.Sites = []string{tag}, u.Sites
	data := map[string]any{"Title": tag, "Nav": "groups", "Tag": tag, "Filter": f, "Statuses": Statuses,
		"Watch": WatchFleet, "JobActions": JobActions, "Languages": fleet.Languages, "ConfigStates": ConfigStates}
	if q.Get("frag") == "rows" {
		var rows []Kiosk
		for _, n := range q["k"][:min(len(q["k"]), maxNames)] {
			if k, ok := w.m.Kiosk(n); ok && u.MaySee(k.Ref.Site) && slices.Contains(k.Tags, tag) {
				rows = append(rows, k)
			}
		}
		data["Kiosks"] = rows
		w.page(rw, r, "group", u, data)
		return
	}
	list, _, total := w.m.KioskPage(f, "", 0)
	by := map[Status]int{}
	cfg := map[string]int{}
	for _, k := range list {
		by[k.Status]++
		cfg[k.ConfigState()]++
	}
	layer, _ := w.m.ConfigLayer(groupScope(tag))
	data["Kiosks"], data["Total"], data["By"], data["ConfigCounts"], data["Layer"] = list, total, by, cfg, layer
	data["Jobs"] = w.jobsOfGroup(u, tag)
	w.page(rw, r, "group", u, data)
}

// jobsOfGroup are the newest jobs started on group tag.
func (w *Web) jobsOfGroup(u User, tag string) []Job {
	var out []Job
	for _, j := range w.m.Jobs(u, 100) {
		if slices.Contains(j.Tags, tag) && len(out) < 5 {
			out = append(out, j)
		}
	}
	return out
}

// tagForm adds or removes a tag on the chosen kiosks.
func (w *Web) tagForm(rw http.ResponseWriter, r *http.Request, u User) {
	r.ParseForm()
	dest := localBack(r, "/")
	names := r.PostForm["k"]
	add, remove := fields(r.PostFormValue("add")), fields(r.PostFormValue("remove"))
	n, err := w.m.SetTags(u, names, add, remove)
	back(rw, r, dest, err, strconv.Itoa(n))
}

func (w *Web) jobsPage(rw http.ResponseWriter, r *http.Request, u User) {
	w.page(rw, r, "jobs", u, map[string]any{"Title": "Jobs", "Nav": "jobs", "Jobs": w.m.Jobs(u, PageRows),
		"Watch": WatchJobs, "TargetStates": TargetStates})
}

// jobForm starts a job on the chosen kiosks (k=…), or on all that a
// filter or group selects (all=1 with the filter's fields).
func (w *Web) jobForm(rw http.ResponseWriter, r *http.Request, u User) {
	r.ParseForm()
	dest := localBack(r, "/")
	req := JobRequest{Action: fleet.CommandName(r.PostFormValue("action")), Language: r.PostFormValue("language")}
	if req.Action != fleet.CmdSetLanguage {
		req.Language = ""
	}
	if h, err := strconv.ParseFloat(r.PostFormValue("hours"), 64); err == nil && h > 0 {
		req.Lifetime = Duration(time.Duration(h * float64(time.Hour)))
	}
	if r.PostFormValue("all") == "1" {
		req.Tags, req.Site, req.Status = r.PostForm["tag"], r.PostFormValue("site"), Status(r.PostFormValue("status"))
	} else {
		req.Kiosks = r.PostForm["k"]
		if len(req.Kiosks) == 0 {
			back(rw, r, dest, errors.New("choose kiosks first"), "")
			return
		}
	}
	j, err := w.m.CreateJob(u, req)
	if err != nil {
		back(rw, r, dest, err, "")
		return
	}
	http.Redirect(rw, r, "/jobs/"+j.ID, http.StatusSeeOther)
}

func (w *Web) jobPage(rw http.ResponseWriter, r *http.Request, u User) {
	id := r.PathValue("id")
	j, ok := w.m.JobFor(u, id)
	if !ok {
		http.NotFound(rw, r)
		return
	}
	w.page(rw, r, "job", u, map[string]any{"Title": string(j.Action), "Nav": "jobs", "J": j, "Watch": jobWatch(id),
		"TargetStates": TargetStates})
}

func (w *Web) cancelJobForm(rw http.ResponseWriter, r *http.Request, u User) {
	id := r.PathValue("id")
	back(rw, r, "/jobs/"+id, w.m.CancelJob(u, id), "")
}

// configView is what the configuration page shows of one layer.
type configView struct {
	ConfigLayer
	Hash string
}

func (w *Web) configPage(rw http.ResponseWriter, r *http.Request, u User) {
	layers := w.m.ConfigLayers()
	edit := r.URL.Query().Get("edit")
	_, hasEdit := layers[edit]
	var groups, kiosks []configView
	var fleetLayer *configView
	for _, l := range layers {
		v := configView{l, l.overlay.Hash()}
		switch {
		case l.Scope == ScopeFleet:
			fleetLayer = &v
		case strings.HasPrefix(l.Scope, scopeGroupPrefix):
			groups = append(groups, v)
		default:
			if site, _, _ := strings.Cut(scopeKiosk(l.Scope), "/"); u.MaySee(site) {
				kiosks = append(kiosks, v)
			}
		}
	}
	sortViews := func(vs []configView) {
		slices.SortFunc(vs, func(a, b configView) int {
			if a.Rank != b.Rank {
				return a.Rank - b.Rank
			}
			return strings.Compare(a.Scope, b.Scope)
		})
	}
	sortViews(groups)
	sortViews(kiosks)
	w.page(rw, r, "config", u, map[string]any{"Title": "Configuration", "Nav": "config", "FleetLayer": fleetLayer,
		"GroupLayers": groups, "KioskLayers": kiosks, "Counts": w.m.ConfigCounts(u), "ConfigStates": ConfigStates,
		"Managed": config.Managed(), "Edit": edit, "Draft": r.URL.Query().Get("draft"),
		"ConfigErr": r.URL.Query().Get("cfgerr"), "NewOpen": strings.HasPrefix(edit, scopeGroupPrefix) && !hasEdit})
}

// layerForm sets or removes one configuration layer.
func (w *Web) layerForm(rw http.ResponseWriter, r *http.Request, u User) {
	scope := r.PostFormValue("scope")
	rank, _ := strconv.Atoi(r.PostFormValue("rank"))
	doc := r.PostFormValue("config")
	if r.PostFormValue("remove") == "1" {
		doc = ""
	}
	dest := localBack(r, "/config")
	err := w.m.SetConfigLayer(u, scope, rank, []byte(doc))
	if err != nil {
		// Keep what was typed, with its problems.
		q := url.Values{"cfgerr": {err.Error()}, "draft": {doc}, "edit": {scope}}
		sep := "?"
		if strings.Contains(dest, "?") {
			sep = "&"
		}
		http.Redirect(rw, r, dest+sep+q.Encode(), http.StatusSeeOther)
		return
	}
	back(rw, r, dest, nil, "saved")
}

// kioskCentral is the kiosk page's configuration card.
type kioskCentral struct {
	Doc    string
	Hash   string
	Layers []ConfigLayer
	Own    ConfigLayer
	HasOwn bool
}

func (w *Web) kioskCentral(name string) kioskCentral {
	var c kioskCentral
	if o, ls, ok := w.m.DesiredConfig(name); ok {
		c.Doc, c.Hash, c.Layers = string(o.JSON()), o.Hash(), ls
	}
	c.Own, c.HasOwn = w.m.ConfigLayer(kioskScope(name))
	return c
}

// OverviewSites is how many sites the overview lists: with hundreds of
// sites, those with the most kiosks in trouble (the Sites page has all).
const OverviewSites = 10

// siteStat is one site and its kiosks by state.
type siteStat struct {
	ID             string
	Name           string
	By             map[Status]int
	Total, Trouble int
}

// siteRows lists s's sites, those with the most kiosks offline, faulty
// or unknown first, at most limit (0: all), and how many are left out.
func siteRows(s Summary, limit int) ([]siteStat, int) {
	rows := make([]siteStat, 0, len(s.Sites))
	for id, by := range s.Sites {
		st := siteStat{ID: id, By: by, Trouble: by[StatusOffline] + by[StatusFaulty] + by[StatusUnknown]}
		for _, n := range by {
			st.Total += n
		}
		rows = append(rows, st)
	}
	slices.SortFunc(rows, func(a, b siteStat) int {
		if a.Trouble != b.Trouble {
			return b.Trouble - a.Trouble
		}
		return strings.Compare(a.ID, b.ID)
	})
	if limit > 0 && len(rows) > limit {
		return rows[:limit], len(rows) - limit
	}
	return rows, 0
}

func (w *Web) sitesPage(rw http.ResponseWriter, r *http.Request, u User) {
	rows, _ := siteRows(w.m.SummaryFor(u), 0)
	names := w.m.SiteNames()
	for i := range rows {
		rows[i].Name = names[rows[i].ID]
	}
	slices.SortFunc(rows, func(a, b siteStat) int { return strings.Compare(a.ID, b.ID) })
	w.page(rw, r, "sites", u, map[string]any{"Title": "Sites", "Nav": "sites", "Sites": rows, "Statuses": Statuses})
}

func (w *Web) siteForm(rw http.ResponseWriter, r *http.Request, u User) {
	err := w.m.SetSiteName(u, r.PostFormValue("site"), r.PostFormValue("name"))
	back(rw, r, "/sites", err, "saved")
}

func (w *Web) usersPage(rw http.ResponseWriter, r *http.Request, u User) {
	users, err := w.m.Users(u)
	data := map[string]any{"Title": "Users", "Nav": "users", "Users": users, "Roles": Roles,
		"Languages": ConsoleLanguages}
	if err != nil {
		data["Error"] = err.Error()
	}
	w.page(rw, r, "users", u, data)
}

// addUserForm adds an account and shows its first password once.
func (w *Web) addUserForm(rw http.ResponseWriter, r *http.Request, u User) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	pw, err := w.m.AddUser(u, name, r.PostFormValue("role"), fields(r.PostFormValue("sites")))
	if err != nil {
		back(rw, r, "/users", err, "")
		return
	}
	users, _ := w.m.Users(u)
	w.page(rw, r, "users", u, map[string]any{"Title": "Users", "Nav": "users", "Users": users, "Roles": Roles,
		"Languages": ConsoleLanguages, "NewPassword": pw, "For": name})
}

// userForm changes one account: role and sites, disable or enable, or a
// reset (a new password, shown once).
func (w *Web) userForm(rw http.ResponseWriter, r *http.Request, u User) {
	name := r.PathValue("name")
	var changed User
	var err error
	switch r.PostFormValue("do") {
	case "update":
		changed, err = w.m.UpdateUser(u, name, r.PostFormValue("role"), fields(r.PostFormValue("sites")))
	case "disable", "enable":
		changed, err = w.m.SetDisabled(u, name, r.PostFormValue("do") == "disable")
	case "reset":
		var pw string
		pw, changed, err = w.m.ResetUser(u, name)
		if err == nil {
			w.sessions.dropUser(name)
			users, _ := w.m.Users(u)
			w.page(rw, r, "users", u, map[string]any{"Title": "Users", "Nav": "users", "Users": users, "Roles": Roles,
				"Languages": ConsoleLanguages, "NewPassword": pw, "For": name})
			return
		}
	default:
		err = errors.New("unknown change")
	}
	if err == nil {
		w.sessions.refresh(changed)
	}
	back(rw, r, "/users", err, "saved")
}

func (w *Web) accountPage(rw http.ResponseWriter, r *http.Request, u User) {
	w.accountRender(rw, r, u, map[string]any{})
}

func (w *Web) accountRender(rw http.ResponseWriter, r *http.Request, u User, data map[string]any) {
	cur, _, _ := w.m.User(u.Name)
	toks, _ := w.m.Tokens(u)
	data["Title"], data["Nav"], data["Account"], data["Tokens"] = "Account", "account", cur.info(), toks
	data["Roles"], data["Languages"], data["Now"] = Roles[:roleLevel(u.Role)+1], ConsoleLanguages, w.m.opts.Now()
	if u.Token != "" {
		data["Error"] = "API tokens cannot change accounts"
	}
	w.page(rw, r, "account", u, data)
}

// accountForm changes the user's own account: language, password, second
// factor, API tokens.
func (w *Web) accountForm(rw http.ResponseWriter, r *http.Request, u User) {
	if u.Token != "" {
		http.Error(rw, "API tokens cannot change accounts", http.StatusForbidden)
		return
	}
	var err error
	var changed User
	ok := "saved"
	switch r.PostFormValue("do") {
	case "lang":
		changed, err = w.m.SetLanguage(u, r.PostFormValue("lang"))
	case "password":
		changed, err = w.m.ChangePassword(u, r.PostFormValue("old"), r.PostFormValue("new"))
	case "totp_begin":
		secret, err := w.m.BeginTOTP(u)
		if err != nil {
			back(rw, r, "/account", err, "")
			return
		}
		uri := totpURI("nhikiosk fleetd", u.Name, secret)
		w.accountRender(rw, r, u, map[string]any{"TOTPSecret": totpSecretText(secret), "TOTPQR": qrDataURL(uri), "TOTPURI": uri})
		return
	case "totp_confirm":
		changed, err = w.m.ConfirmTOTP(u, strings.TrimSpace(r.PostFormValue("code")))
	case "totp_disable":
		changed, err = w.m.DisableTOTP(u, strings.TrimSpace(r.PostFormValue("code")))
	case "token":
		days, _ := strconv.Atoi(r.PostFormValue("days"))
		secret, _, err := w.m.CreateToken(u, r.PostFormValue("name"), r.PostFormValue("role"), fields(r.PostFormValue("sites")),
			time.Duration(days)*24*time.Hour)
		if err != nil {
			back(rw, r, "/account", err, "")
			return
		}
		w.accountRender(rw, r, u, map[string]any{"NewToken": secret})
		return
	case "revoke":
		err, ok = w.m.RevokeToken(u, r.PostFormValue("id")), "revoked"
	default:
		err = errors.New("unknown change")
	}
	if err == nil && changed.Name != "" {
		w.sessions.refresh(changed)
	}
	back(rw, r, localBack(r, "/account"), err, ok)
}

// qrDataURL draws text as a QR code in a PNG data URL.
func qrDataURL(text string) string {
	c, err := qr.Encode(text, qr.M)
	if err != nil {
		return ""
	}
	c.Scale = 4
	var b bytes.Buffer
	if err := png.Encode(&b, c.Image()); err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(b.Bytes())
}

func (w *Web) notifyPage(rw http.ResponseWriter, r *http.Request, u User) {
	rules, err := w.m.Rules(u)
	data := map[string]any{"Title": "Notifications", "Nav": "notify", "Rules": rules, "AlertKinds": AlertKinds,
		"Mail": w.m.opts.Mail.Addr != ""}
	if err != nil {
		data["Error"] = err.Error()
	}
	if id := r.URL.Query().Get("edit"); id != "" {
		for _, rv := range rules {
			if rv.ID == id {
				data["EditRule"] = rv
			}
		}
	}
	w.page(rw, r, "notify", u, data)
}

// ruleForm adds, changes or deletes a notification rule.
func (w *Web) ruleForm(rw http.ResponseWriter, r *http.Request, u User) {
	r.ParseForm()
	if r.PostFormValue("do") == "delete" {
		back(rw, r, "/notify", w.m.DeleteRule(u, r.PostFormValue("id")), "deleted")
		return
	}
	esc, _ := strconv.Atoi(r.PostFormValue("escalate_min"))
	rule := Rule{ID: r.PostFormValue("id"), Name: r.PostFormValue("name"), Sites: fields(r.PostFormValue("sites")),
		Tags: fields(r.PostFormValue("tags")), Email: fields(r.PostFormValue("email")), Webhook: strings.TrimSpace(r.PostFormValue("webhook")),
		Secret: r.PostFormValue("secret"), OnNew: r.PostFormValue("on_new") == "1", OnResolved: r.PostFormValue("on_resolved") == "1",
		EscalateAfter: Duration(time.Duration(esc) * time.Minute), QuietFrom: r.PostFormValue("quiet_from"),
		QuietTo: r.PostFormValue("quiet_to"), Disabled: r.PostFormValue("disabled") == "1"}
	for _, k := range r.PostForm["kind"] {
		rule.Kinds = append(rule.Kinds, AlertKind(k))
	}
	_, err := w.m.SetRule(u, rule)
	back(rw, r, "/notify", err, "saved")
}
