package manager

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/nhikiosk/nhikiosk/config"
)

// The JSON API of issue 19 (docs/fleet.md): groups and tags, jobs,
// configuration layers, site names, users, API tokens, notification rules.

func decodeJSON(rw http.ResponseWriter, r *http.Request, v any, want string) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeJSON(rw, http.StatusBadRequest, apiError{"want " + want + ": " + err.Error()})
		return false
	}
	return true
}

func answer(rw http.ResponseWriter, status int, v any, err error) {
	if err != nil {
		var cp *ConfigProblem
		var ps config.Problems
		switch {
		case errors.As(err, &cp):
			writeJSON(rw, http.StatusUnprocessableEntity, map[string]any{"error": err.Error(), "kiosk": cp.Kiosk, "problems": problemList(cp.Problems)})
		case errors.As(err, &ps):
			writeJSON(rw, http.StatusUnprocessableEntity, map[string]any{"error": err.Error(), "problems": problemList(ps)})
		default:
			writeJSON(rw, statusFor(err), apiError{err.Error()})
		}
		return
	}
	writeJSON(rw, status, v)
}

type problemJSON struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

func problemList(ps config.Problems) []problemJSON {
	out := make([]problemJSON, len(ps))
	for i, p := range ps {
		out[i] = problemJSON{p.Field, p.Reason}
	}
	return out
}

func (w *Web) opsAPIRoutes() {
	w.route("GET /api/v1/groups", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		writeJSON(rw, http.StatusOK, map[string]any{"groups": w.m.Groups(u)})
	})
	w.route("POST /api/v1/tags", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		var req struct {
			Kiosks []string `json:"kiosks"`
			Add    []string `json:"add"`
			Remove []string `json:"remove"`
		}
		if !decodeJSON(rw, r, &req, `{"kiosks":[…],"add":[…],"remove":[…]}`) {
			return
		}
		n, err := w.m.SetTags(u, req.Kiosks, req.Add, req.Remove)
		answer(rw, http.StatusOK, map[string]int{"changed": n}, err)
	})
	w.route("GET /api/v1/jobs", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		writeJSON(rw, http.StatusOK, map[string]any{"jobs": w.m.Jobs(u, pageSize(r.URL.Query().Get("limit")))})
	})
	w.route("POST /api/v1/jobs", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		var req JobRequest
		if !decodeJSON(rw, r, &req, `{"action":…, "kiosks":[…] | "tags":[…] | "site":…}`) {
			return
		}
		j, err := w.m.CreateJob(u, req)
		answer(rw, http.StatusAccepted, j, err)
	})
	w.route("GET /api/v1/jobs/{id}", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		j, ok := w.m.JobFor(u, r.PathValue("id"))
		if !ok {
			writeJSON(rw, http.StatusNotFound, apiError{"no such job"})
			return
		}
		writeJSON(rw, http.StatusOK, j)
	})
	w.route("POST /api/v1/jobs/{id}/cancel", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		answer(rw, http.StatusOK, map[string]string{"status": "cancelled"}, w.m.CancelJob(u, r.PathValue("id")))
	})
	w.route("GET /api/v1/config", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		var layers []ConfigLayer
		for _, l := range w.m.ConfigLayers() {
			if site, _, _ := strings.Cut(scopeKiosk(l.Scope), "/"); u.MaySee(site) {
				layers = append(layers, l)
			}
		}
		writeJSON(rw, http.StatusOK, map[string]any{"layers": layers, "kiosks_by_state": w.m.ConfigCounts(u),
			"managed_fields": config.Managed()})
	})
	w.route("PUT /api/v1/config/{scope...}", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		var req struct {
			Rank   int             `json:"rank"`
			Config json.RawMessage `json:"config"`
		}
		if !decodeJSON(rw, r, &req, `{"rank":0,"config":{…}}`) {
			return
		}
		if len(req.Config) == 0 || string(req.Config) == "null" {
			writeJSON(rw, http.StatusBadRequest, apiError{`want {"config":{…}}; DELETE removes a layer`})
			return
		}
		scope := r.PathValue("scope")
		err := w.m.SetConfigLayer(u, scope, req.Rank, req.Config)
		l, _ := w.m.ConfigLayer(scope)
		answer(rw, http.StatusOK, map[string]any{"layer": l, "hash": l.overlay.Hash()}, err)
	})
	w.route("DELETE /api/v1/config/{scope...}", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		answer(rw, http.StatusOK, map[string]string{"status": "removed"}, w.m.SetConfigLayer(u, r.PathValue("scope"), 0, nil))
	})
	w.route("GET /api/v1/kiosks/{site}/{kiosk}/config", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		name := r.PathValue("site") + "/" + r.PathValue("kiosk")
		k, ok := w.m.Kiosk(name)
		if !ok || !u.MaySee(k.Ref.Site) {
			writeJSON(rw, http.StatusNotFound, apiError{"no such kiosk"})
			return
		}
		o, ls, _ := w.m.DesiredConfig(name)
		var scopes []string
		for _, l := range ls {
			scopes = append(scopes, l.Scope)
		}
		writeJSON(rw, http.StatusOK, map[string]any{"state": k.ConfigState(), "desired": json.RawMessage(o.JSON()),
			"desired_hash": k.Config.Desired, "reported_hash": k.ReportedConfig(), "status": k.Config, "layers": scopes})
	})
	w.route("GET /api/v1/sites", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		var out []SiteInfo
		for id := range w.m.SummaryFor(u).Sites {
			out = append(out, SiteInfo{ID: id, Name: w.m.SiteName(id)})
		}
		writeJSON(rw, http.StatusOK, map[string]any{"sites": out})
	})
	w.route("PUT /api/v1/sites/{site}", operator, func(rw http.ResponseWriter, r *http.Request, u User) {
		var req struct {
			Name string `json:"name"`
		}
		if !decodeJSON(rw, r, &req, `{"name":…}`) {
			return
		}
		answer(rw, http.StatusOK, SiteInfo{ID: r.PathValue("site"), Name: w.m.SiteName(r.PathValue("site"))},
			w.m.SetSiteName(u, r.PathValue("site"), req.Name))
	})
	w.userAPIRoutes()
}

func (w *Web) userAPIRoutes() {
	w.route("GET /api/v1/users", admin, func(rw http.ResponseWriter, r *http.Request, u User) {
		users, err := w.m.Users(u)
		answer(rw, http.StatusOK, map[string]any{"users": users}, err)
	})
	w.route("POST /api/v1/users", admin, func(rw http.ResponseWriter, r *http.Request, u User) {
		var req struct {
			Name  string   `json:"name"`
			Role  string   `json:"role"`
			Sites []string `json:"sites"`
		}
		if !decodeJSON(rw, r, &req, `{"name":…,"role":…,"sites":[…]}`) {
			return
		}
		pw, err := w.m.AddUser(u, req.Name, req.Role, req.Sites)
		answer(rw, http.StatusCreated, map[string]string{"name": req.Name, "password": pw}, err)
	})
	w.route("POST /api/v1/users/{name}", admin, func(rw http.ResponseWriter, r *http.Request, u User) {
		var req struct {
			Role     *string   `json:"role"`
			Sites    *[]string `json:"sites"`
			Disabled *bool     `json:"disabled"`
		}
		if !decodeJSON(rw, r, &req, `{"role":…,"sites":[…],"disabled":…}`) {
			return
		}
		name := r.PathValue("name")
		cur, ok, err := w.m.User(name)
		if err != nil || !ok {
			writeJSON(rw, http.StatusNotFound, apiError{"no such user"})
			return
		}
		role, sites := cur.Role, cur.Sites
		if req.Role != nil {
			role = *req.Role
		}
		if req.Sites != nil {
			sites = *req.Sites
		}
		changed, err := w.m.UpdateUser(u, name, role, sites)
		if err == nil && req.Disabled != nil {
			changed, err = w.m.SetDisabled(u, name, *req.Disabled)
		}
		if err == nil {
			w.sessions.refresh(changed)
		}
		answer(rw, http.StatusOK, changed.info(), err)
	})
	w.route("POST /api/v1/users/{name}/reset", admin, func(rw http.ResponseWriter, r *http.Request, u User) {
		pw, _, err := w.m.ResetUser(u, r.PathValue("name"))
		if err == nil {
			w.sessions.dropUser(r.PathValue("name"))
		}
		answer(rw, http.StatusOK, map[string]string{"password": pw}, err)
	})
	w.route("GET /api/v1/tokens", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		toks, err := w.m.Tokens(u)
		answer(rw, http.StatusOK, map[string]any{"tokens": toks}, err)
	})
	w.route("POST /api/v1/tokens", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		if u.Token != "" {
			writeJSON(rw, http.StatusForbidden, apiError{"an API token cannot make tokens"})
			return
		}
		var req struct {
			Name     string   `json:"name"`
			Role     string   `json:"role"`
			Sites    []string `json:"sites"`
			Lifetime Duration `json:"lifetime"`
		}
		if !decodeJSON(rw, r, &req, `{"name":…,"role":…,"sites":[…],"lifetime":"720h"}`) {
			return
		}
		if req.Lifetime == 0 {
			req.Lifetime = Duration(90 * 24 * time.Hour)
		}
		secret, t, err := w.m.CreateToken(u, req.Name, req.Role, req.Sites, time.Duration(req.Lifetime))
		answer(rw, http.StatusCreated, map[string]any{"token": secret, "info": t}, err)
	})
	w.route("DELETE /api/v1/tokens/{id}", viewer, func(rw http.ResponseWriter, r *http.Request, u User) {
		answer(rw, http.StatusOK, map[string]string{"status": "revoked"}, w.m.RevokeToken(u, r.PathValue("id")))
	})
	w.route("GET /api/v1/rules", admin, func(rw http.ResponseWriter, r *http.Request, u User) {
		rules, err := w.m.Rules(u)
		answer(rw, http.StatusOK, map[string]any{"rules": rules}, err)
	})
	w.route("POST /api/v1/rules", admin, func(rw http.ResponseWriter, r *http.Request, u User) {
		var rule Rule
		if !decodeJSON(rw, r, &rule, `a rule`) {
			return
		}
		v, err := w.m.SetRule(u, rule)
		answer(rw, http.StatusOK, v, err)
	})
	w.route("DELETE /api/v1/rules/{id}", admin, func(rw http.ResponseWriter, r *http.Request, u User) {
		answer(rw, http.StatusOK, map[string]string{"status": "deleted"}, w.m.DeleteRule(u, r.PathValue("id")))
	})
}
